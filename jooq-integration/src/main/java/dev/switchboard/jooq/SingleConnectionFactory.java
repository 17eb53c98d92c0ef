package dev.switchboard.jooq;

import dev.switchboard.r2dbc.NonClosingConnection;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import reactor.core.publisher.Mono;

/**
 * Hands out one connection, already in a transaction, whose life the transaction owns: closing
 * what this factory hands out does nothing.
 */
final class SingleConnectionFactory implements ConnectionFactory {

	private final Mono<Connection> create;

	private final ConnectionFactoryMetadata metadata;

	SingleConnectionFactory(Connection connection) {
		this.create = Mono.just(new NonClosingConnection(connection));
		ConnectionMetadata connectionMetadata = connection.getMetadata();
		this.metadata = connectionMetadata::getDatabaseProductName;
	}

	@Override
	public Mono<Connection> create() {
		return this.create;
	}

	@Override
	public ConnectionFactoryMetadata getMetadata() {
		return this.metadata;
	}
}
