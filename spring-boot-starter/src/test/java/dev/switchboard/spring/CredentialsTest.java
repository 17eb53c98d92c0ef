package dev.switchboard.spring;

import io.r2dbc.spi.ConnectionFactoryOptions;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Credentials set apart from the URL reach the driver whole, whatever their characters. */
class CredentialsTest {

	@Test
	void aPasswordWithAtSlashHashAndSpaceSurvivesTheUrl() {
		String url = Credentials.apply("r2dbc:postgresql://db1:5432/orders?sslMode=disable", "app user", "p@ss/w0rd#1 +%");
		ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(url);
		assertThat(options.getValue(ConnectionFactoryOptions.HOST)).isEqualTo("db1");
		assertThat(options.getValue(ConnectionFactoryOptions.PORT)).isEqualTo(5432);
		assertThat(options.getValue(ConnectionFactoryOptions.DATABASE)).isEqualTo("orders");
		assertThat(options.getValue(ConnectionFactoryOptions.USER)).isEqualTo("app user");
		assertThat(String.valueOf(options.getValue(ConnectionFactoryOptions.PASSWORD))).isEqualTo("p@ss/w0rd#1 +%");
	}

	@Test
	void settingsReplaceTheUrlsUserInfoAndKeepWhatIsNotSet() {
		ConnectionFactoryOptions replaced = ConnectionFactoryOptions.parse(
				Credentials.apply("r2dbc:mysql://old:secret@db3:3306/orders", null, "n#w"));
		assertThat(replaced.getValue(ConnectionFactoryOptions.USER)).isEqualTo("old");
		assertThat(String.valueOf(replaced.getValue(ConnectionFactoryOptions.PASSWORD))).isEqualTo("n#w");
		assertThat(replaced.getValue(ConnectionFactoryOptions.HOST)).isEqualTo("db3");
	}

	@Test
	void aUrlWithoutCredentialsSettingsIsLeftAlone() {
		assertThat(Credentials.apply("r2dbc:h2:mem:///x", null, null)).isEqualTo("r2dbc:h2:mem:///x");
		assertThat(Credentials.hostless("r2dbc:h2:mem:///x", null, null)).isFalse();
		assertThat(Credentials.hostless("r2dbc:h2:mem:///x", "sa", "p@ss")).isTrue();
		assertThat(Credentials.hostless("r2dbc:postgresql://db1/x", "sa", "p@ss")).isFalse();
	}
}
