package dev.switchboard.api;

import java.io.IOException;
import java.net.ConnectException;
import java.util.concurrent.TimeoutException;

import io.r2dbc.spi.R2dbcBadGrammarException;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcPermissionDeniedException;
import io.r2dbc.spi.R2dbcRollbackException;
import io.r2dbc.spi.R2dbcTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class DataErrorClassifierTest {

	static final TenantId ACME = TenantId.of("acme");

	@ParameterizedTest
	@CsvSource({
			// PostgreSQL
			"40001, 0, TRANSIENT", "40P01, 0, TRANSIENT", "57P01, 0, TRANSIENT", "53300, 0, TRANSIENT",
			"25006, 0, TRANSIENT", "08006, 0, TRANSIENT", "55P03, 0, TRANSIENT", "57014, 0, TRANSIENT",
			"42601, 0, PERMANENT", "23505, 0, PERMANENT", "42501, 0, PERMANENT", "22012, 0, PERMANENT",
			"25P02, 0, PERMANENT",
			// MySQL / MariaDB: the vendor code decides where the SQLSTATE is the generic HY000
			"HY000, 1290, TRANSIENT", "HY000, 1205, TRANSIENT", "40001, 1213, TRANSIENT", "08004, 1040, TRANSIENT",
			"70100, 1927, TRANSIENT", "08S01, 1053, TRANSIENT", "42000, 1064, PERMANENT", "23000, 1062, PERMANENT",
			"42000, 1142, PERMANENT", "HY000, 1366, PERMANENT" })
	void classifiesBySqlStateAndVendorCode(String sqlState, int code, DataError.Kind expected) {
		DataError error = DataErrorClassifier.classify(new R2dbcBadGrammarException("boom", sqlState, code), ACME,
				"pg-main", Role.PRIMARY);

		assertThat(error.kind()).isEqualTo(expected);
		assertThat(error.sqlState()).isEqualTo(sqlState);
	}

	@Test
	void classifiesByExceptionTypeWhenThereIsNoSqlState() {
		assertThat(kindOf(new R2dbcRollbackException("rolled back"))).isEqualTo(DataError.Kind.TRANSIENT);
		assertThat(kindOf(new R2dbcTimeoutException("slow"))).isEqualTo(DataError.Kind.TRANSIENT);
		assertThat(kindOf(new R2dbcNonTransientResourceException("connection closed"))).isEqualTo(DataError.Kind.TRANSIENT);
		assertThat(kindOf(new R2dbcDataIntegrityViolationException("dup"))).isEqualTo(DataError.Kind.PERMANENT);
		assertThat(kindOf(new R2dbcPermissionDeniedException("no"))).isEqualTo(DataError.Kind.PERMANENT);
	}

	@Test
	void connectionRefusedLostOrTimedOutIsTransient() {
		assertThat(kindOf(new IllegalStateException("wrapped", new ConnectException("Connection refused")))).isEqualTo(DataError.Kind.TRANSIENT);
		assertThat(kindOf(new IOException("Connection reset by peer"))).isEqualTo(DataError.Kind.TRANSIENT);
		assertThat(kindOf(new TimeoutException("acquire"))).isEqualTo(DataError.Kind.TRANSIENT);
		assertThat(kindOf(new IllegalArgumentException("bad"))).isEqualTo(DataError.Kind.PERMANENT);
	}

	@Test
	void messageNamesTenantDataSourceRoleAndSqlStateAndKeepsTheCause() {
		R2dbcBadGrammarException cause = new R2dbcBadGrammarException("syntax error at or near \"SELEC\"", "42601", 0);

		DataError error = DataErrorClassifier.classify(cause, ACME, "pg-main", Role.REPLICA);

		assertThat(error.getMessage()).isEqualTo(
				"PERMANENT: syntax error at or near \"SELEC\" [tenant=acme, datasource=pg-main, role=replica, sqlstate=42601]");
		assertThat(error.getCause()).isSameAs(cause);
		assertThat(error.tenant()).isEqualTo("acme");
		assertThat(error.dataSource()).isEqualTo("pg-main");
		assertThat(error.role()).isEqualTo(Role.REPLICA);
	}

	@Test
	void aDataErrorIsReturnedAsIs() {
		DataError original = DataError.unknownTenant(ACME);

		assertThat(DataErrorClassifier.classify(original, null, null, null)).isSameAs(original);
	}

	@Test
	void onlyDatabaseFailuresAreDataAccessFailures() {
		assertThat(DataErrorClassifier.isDataAccessFailure(new R2dbcTimeoutException("slow"))).isTrue();
		assertThat(DataErrorClassifier.isDataAccessFailure(new RuntimeException(new IOException("reset")))).isTrue();
		assertThat(DataErrorClassifier.isDataAccessFailure(new IllegalStateException("mapper bug"))).isFalse();
	}

	@Test
	void routingErrorsAreClassifiedAsRouting() {
		assertThat(DataError.missingContext().kind().isRouting()).isTrue();
		assertThat(DataError.unknownTenant(ACME).getMessage()).contains("'acme'");
		assertThat(DataError.routingConflict(ACME, "pg-main", TenantId.of("globex")))
				.satisfies(error -> {
					assertThat(error.kind()).isEqualTo(DataError.Kind.ROUTING_CONFLICT);
					assertThat(error.getMessage()).contains("'globex'", "'acme'", "datasource=pg-main");
				});
		assertThat(DataError.noHealthyTarget(ACME, "pg-main", Role.REPLICA, null).isTransient()).isTrue();
	}

	static DataError.Kind kindOf(Throwable failure) {
		return DataErrorClassifier.classify(failure, ACME, "pg-main", Role.PRIMARY).kind();
	}
}
