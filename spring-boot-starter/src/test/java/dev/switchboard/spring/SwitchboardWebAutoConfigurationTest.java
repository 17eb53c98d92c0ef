package dev.switchboard.spring;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web side's choices at start, over in-memory H2: the resolver from
 * {@code switchboard.web.tenant-from}, the WARN for an untrusted header with Spring Security
 * present, settings that cannot work.
 */
@ExtendWith(OutputCaptureExtension.class)
class SwitchboardWebAutoConfigurationTest {

	static final String WARNING = "any client can set to any tenant";

	final ReactiveWebApplicationContextRunner runner = new ReactiveWebApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(SwitchboardAutoConfiguration.class,
					SwitchboardWebAutoConfiguration.class))
			.withUserConfiguration(Codecs.class)
			.withPropertyValues(SwitchboardAutoConfigurationTest.GOOD);

	@Test
	void anUntrustedHeaderWithSpringSecurityPresentWarnsAtStart(CapturedOutput output) {
		this.runner.run(context -> {
			assertThat(context).hasNotFailed().hasSingleBean(TenantWebFilter.class)
					.hasSingleBean(SwitchboardExceptionHandler.class);
			assertThat(output.getAll().lines().filter(line -> line.contains(WARNING)))
					.as("the warning, once, at WARN and from the web auto-configuration")
					.singleElement().asString()
					.contains(" WARN ", SwitchboardWebAutoConfiguration.class.getSimpleName(),
							"X-Tenant-Id request header, which " + WARNING,
							"switchboard.web.tenant-from=jwt-claim", "switchboard.web.trust-tenant-header=true");
		});
	}

	@Test
	void aTrustedHeaderDoesNotWarn(CapturedOutput output) {
		this.runner.withPropertyValues("switchboard.web.trust-tenant-header=true")
				.run(context -> assertThat(output).doesNotContain(WARNING));
	}

	@Test
	void withoutSpringSecurityTheHeaderDoesNotWarn(CapturedOutput output) {
		this.runner.withClassLoader(new FilteredClassLoader("org.springframework.security"))
				.run(context -> {
					assertThat(context).hasNotFailed();
					assertThat(output).doesNotContain(WARNING);
				});
	}

	@Test
	void aResolverFromTheCallerDoesNotWarn(CapturedOutput output) {
		this.runner.withPropertyValues("switchboard.web.tenant-from=jwt-claim")
				.run(context -> {
					assertThat(context).hasNotFailed();
					assertThat(output).doesNotContain(WARNING);
				});
	}

	@Test
	void aJwtClaimWithoutTheResourceServerFailsTheStartNamingTheKey() {
		this.runner.withPropertyValues("switchboard.web.tenant-from=jwt-claim")
				.withClassLoader(new FilteredClassLoader("org.springframework.security"))
				.run(context -> assertThat(context).getFailure().rootCause()
						.isInstanceOf(SwitchboardConfigurationException.class)
						.hasMessageContaining("switchboard.web.tenant-from")
						.hasMessageContaining("spring-boot-starter-security-oauth2-resource-server"));
	}

	@Test
	void aSubdomainWithoutItsDomainFailsTheStartNamingTheKey() {
		this.runner.withPropertyValues("switchboard.web.tenant-from=subdomain")
				.run(context -> assertThat(context).getFailure().rootCause()
						.isInstanceOf(SwitchboardConfigurationException.class)
						.hasMessageContaining("switchboard.web.tenant-domain"));
	}

	/** What Boot's WebFlux auto-configuration provides in an application. */
	@Configuration(proxyBeanMethods = false)
	static class Codecs {

		@Bean
		ServerCodecConfigurer serverCodecConfigurer() {
			return ServerCodecConfigurer.create();
		}
	}
}
