package dev.switchboard.r2dbc;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.Role;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.test.MockConnection;
import io.r2dbc.spi.test.MockConnectionFactory;
import reactor.core.publisher.Mono;

/**
 * A datasource of one primary without a server, for the directory's unit tests: its connections
 * are inert, and it counts how often it was disposed.
 */
final class FakeDataSource implements DataSource, AsyncDisposable {

	final String name;

	final AtomicInteger disposals = new AtomicInteger();

	private final Target primary;

	FakeDataSource(String name) {
		this.name = name;
		this.primary = new FakeTarget(this);
	}

	@Override
	public String name() {
		return this.name;
	}

	@Override
	public Target primary() {
		return this.primary;
	}

	@Override
	public List<Target> replicas() {
		return List.of();
	}

	@Override
	public Target select(AccessIntent intent) {
		return this.primary;
	}

	@Override
	public Mono<Void> disposeLater() {
		return Mono.fromRunnable(this.disposals::incrementAndGet);
	}

	@Override
	public void dispose() {
		disposeLater().block();
	}

	@Override
	public boolean isDisposed() {
		return this.disposals.get() > 0;
	}

	@Override
	public String toString() {
		return "FakeDataSource[" + this.name + "]";
	}

	private record FakeTarget(FakeDataSource owner) implements Target {

		private static final ConnectionFactory FACTORY = MockConnectionFactory.builder()
				.connection(MockConnection.empty())
				.build();

		@Override
		public DataSource dataSource() {
			return this.owner;
		}

		@Override
		public Role role() {
			return Role.PRIMARY;
		}

		@Override
		public String name() {
			return this.owner.name + "/primary";
		}

		@Override
		public ConnectionFactory connectionFactory() {
			return new ConnectionFactory() {
				@Override
				public Mono<Connection> create() {
					return Mono.from(FACTORY.create());
				}

				@Override
				public ConnectionFactoryMetadata getMetadata() {
					return FACTORY.getMetadata();
				}
			};
		}
	}
}
