package dev.switchboard.r2dbc;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.Option;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How a user and a password given apart from the URLs reach each driver. */
class CredentialsTest {

	static ConnectionFactoryOptions parse(String url) {
		return ConnectionFactoryOptions.parse(url);
	}

	@Test
	void aFixedUserAndPasswordReplaceTheUrlsWhateverTheirCharacters() {
		ConnectionFactoryOptions options = Credentials.NONE.withUser("app user").withPassword("p@ss/w0rd#1 +%")
				.applyTo(parse("r2dbc:postgresql://old:secret@db1:5432/orders"), "orders", "primary");

		assertThat(options.getValue(ConnectionFactoryOptions.USER)).isEqualTo("app user");
		assertThat(options.getValue(ConnectionFactoryOptions.PASSWORD)).hasToString("p@ss/w0rd#1 +%");
		assertThat(options.getValue(ConnectionFactoryOptions.HOST)).isEqualTo("db1");
		assertThat(options.toString()).doesNotContain("p@ss").doesNotContain("secret");
	}

	@Test
	void aUserAloneKeepsTheUrlsPassword() {
		ConnectionFactoryOptions options = Credentials.NONE.withUser("app")
				.applyTo(parse("r2dbc:mysql://old:secret@db3:3306/orders"), "orders", "primary");

		assertThat(options.getValue(ConnectionFactoryOptions.USER)).isEqualTo("app");
		assertThat(options.getValue(ConnectionFactoryOptions.PASSWORD)).hasToString("secret");
	}

	@Test
	void postgresqlIsGivenAPasswordPublisherThatAsksTheSupplierOnEachSubscription() {
		AtomicInteger asked = new AtomicInteger();
		ConnectionFactoryOptions options = Credentials.NONE.withPassword(() -> "pw-" + asked.incrementAndGet())
				.applyTo(parse("r2dbc:postgresql://app:old@db1/orders"), "orders", "primary");

		Object password = options.getValue(ConnectionFactoryOptions.PASSWORD);
		assertThat(password).isInstanceOf(Publisher.class);
		assertThat(asked).as("nothing is asked before a connection is made").hasValue(0);
		StepVerifier.create(Mono.from(publisher(password))).expectNext("pw-1").verifyComplete();
		StepVerifier.create(Mono.from(publisher(password))).expectNext("pw-2").verifyComplete();
		// The driver accepts it: r2dbc-postgresql reads a Supplier or Publisher PASSWORD itself.
		assertThat(ConnectionFactories.get(options)).isNotNull();
	}

	@Test
	void mysqlIsGivenItsOwnPasswordPublisherOptionInPlaceOfThePassword() {
		AtomicInteger asked = new AtomicInteger();
		ConnectionFactoryOptions options = Credentials.NONE.withPassword(() -> "pw-" + asked.incrementAndGet())
				.applyTo(parse("r2dbc:mysql://app:old@db3/orders"), "orders", "replicas[0]");

		assertThat(options.hasOption(ConnectionFactoryOptions.PASSWORD)).isFalse();
		Object password = options.getValue(Credentials.MYSQL_PASSWORD_PUBLISHER);
		StepVerifier.create(Mono.from(publisher(password))).expectNext("pw-1").verifyComplete();
		StepVerifier.create(Mono.from(publisher(password))).expectNext("pw-2").verifyComplete();
		assertThat(ConnectionFactories.get(options)).isNotNull();
	}

	@Test
	void mysqlRefusesASupplierAsItsPasswordOption() {
		// Why r2dbc-mysql gets its own passwordPublisher option: its PASSWORD must be a CharSequence.
		ConnectionFactoryOptions naive = ConnectionFactoryOptions.builder()
				.from(parse("r2dbc:mysql://app@db3/orders"))
				.option(Option.<Object>valueOf("password"), (Supplier<String>) () -> "pw")
				.build();

		assertThatThrownBy(() -> ConnectionFactories.get(naive)).isInstanceOf(IllegalArgumentException.class);
	}

	@Test
	void theDriverBehindAPoolUrlDecides() {
		ConnectionFactoryOptions options = Credentials.NONE.withPassword(Mono.fromSupplier(() -> "pw"))
				.applyTo(parse("r2dbc:pool:postgresql://app@db1/orders"), "orders", "primary");

		assertThat(options.getValue(ConnectionFactoryOptions.PASSWORD)).isInstanceOf(Publisher.class);
	}

	@Test
	void aDriverWithoutAWayToAskPerConnectionIsRefusedNamingThePassword() {
		Credentials credentials = Credentials.NONE.withPassword(() -> "pw");

		assertThatThrownBy(() -> credentials.applyTo(parse("r2dbc:h2:mem:///orders"), "orders", "primary"))
				.isInstanceOfSatisfying(InvalidSettingException.class, ex -> {
					assertThat(ex.dataSource()).isEqualTo("orders");
					assertThat(ex.setting()).isEqualTo("password");
					assertThat(ex.problem()).contains("'h2'").contains("primary");
				});
	}

	@Test
	void aSupplierThatGivesNothingFailsTheConnectionNamingTheDataSource() {
		ConnectionFactoryOptions options = Credentials.NONE.withPassword(() -> null)
				.applyTo(parse("r2dbc:mysql://app@db3/orders"), "orders", "replicas[1]");

		StepVerifier.create(Mono.from(publisher(options.getValue(Credentials.MYSQL_PASSWORD_PUBLISHER))))
				.expectErrorSatisfies(ex -> assertThat(ex).isInstanceOf(IllegalStateException.class)
						.hasMessage("the password supplier of replicas[1] of datasource 'orders' returned no password"))
				.verify();
	}

	@Test
	void toStringNeverShowsThePassword() {
		assertThat(Credentials.NONE.withUser("app").withPassword("hunter2")).hasToString(
				"credentials[user=app, password=****]");
		assertThat(Credentials.NONE.withPassword(() -> "hunter2")).hasToString(
				"credentials[user=from the URL, password=asked per connection]");
	}

	@Test
	void theBuilderAppliesCredentialsSetAfterTheUrls() {
		AtomicInteger asked = new AtomicInteger();
		try (ReplicatedDataSource dataSource = ReplicatedDataSource.builder("orders")
				.primary("r2dbc:postgresql://postgres@127.0.0.1:1/orders")
				.replica("r2dbc:mysql://root@127.0.0.1:1/orders")
				.username("app")
				.password(() -> "pw-" + asked.incrementAndGet())
				.build()) {
			assertThat(dataSource.primary().name()).isEqualTo("orders/primary");
			assertThat(asked).as("asked only when a connection is made").hasValue(0);
		}
	}

	@Test
	void theBuilderNamesBadCredentialSettings() {
		assertThatThrownBy(() -> ReplicatedDataSource.builder("orders").username(" "))
				.isInstanceOfSatisfying(InvalidSettingException.class, ex -> assertThat(ex.setting()).isEqualTo("username"));
		assertThatThrownBy(() -> ReplicatedDataSource.builder("orders").password((CharSequence) null))
				.isInstanceOfSatisfying(InvalidSettingException.class, ex -> assertThat(ex.setting()).isEqualTo("password"));
		assertThatThrownBy(() -> ReplicatedDataSource.builder("orders").primary(ReplicatedDataSourceTest.factory())
				.password("pw").build())
				.isInstanceOfSatisfying(InvalidSettingException.class,
						ex -> assertThat(ex.problem()).contains("apply to servers given by URL"));
	}

	@SuppressWarnings("unchecked")
	private static Publisher<CharSequence> publisher(Object value) {
		return (Publisher<CharSequence>) value;
	}
}
