package example;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The start stops with Boot's failure report naming the jOOQ found and the fix. */
@ExtendWith(OutputCaptureExtension.class)
class ApplicationTest {

	@Test
	void theStartNamesTheJooqVersionAndTheFix(CapturedOutput output) {
		assertThatThrownBy(() -> SpringApplication.run(Application.class)).isNotNull();
		assertThat(output.toString())
				.contains("APPLICATION FAILED TO START")
				.contains("Switchboard needs jOOQ 3.20 or newer; your build has jOOQ 3.19.39")
				.contains("<jooq.version>3.21.9</jooq.version>")
				.doesNotContain("NoClassDefFoundError");
	}
}
