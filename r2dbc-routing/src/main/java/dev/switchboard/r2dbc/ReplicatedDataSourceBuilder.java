package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

import dev.switchboard.api.DataError;
import dev.switchboard.api.Names;
import dev.switchboard.api.ReadConsistency;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactory;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;

/**
 * The settings of a {@link ReplicatedDataSource} and their checks: the body of
 * {@link ReplicatedDataSource.Builder}, the one type users see and the only subclass. In a file of
 * its own so that the datasource's file holds the datasource; package-private, so that its public
 * methods appear on {@code ReplicatedDataSource.Builder} alone (as {@code AbstractStringBuilder}'s
 * do on {@code StringBuilder}), each returning that type, and code written against the nested
 * builder compiles unchanged. Each method checks its own argument; {@link #build()} checks the
 * combination. Not thread-safe.
 */
abstract sealed class ReplicatedDataSourceBuilder permits ReplicatedDataSource.Builder {

	final String name;

	@Nullable ServerSetting primary;

	final List<ServerSetting> replicas = new ArrayList<>();

	Credentials credentials = Credentials.NONE;

	Consumer<ConnectionPoolConfiguration.Builder> poolCustomizer = pool -> {
	};

	ReadConsistency consistency = ReadConsistency.PIN;

	@Nullable Duration maxReplicationLag;

	Duration causalWait = Duration.ofMillis(100);

	Duration probeInterval = Duration.ofSeconds(1);

	boolean readsFallBackToPrimary = true;

	ReplicatedDataSourceBuilder(String name) {
		this.name = Names.requireValid("datasource name", name);
	}

	/**
	 * Set the primary from an R2DBC URL.
	 * @param url for example {@code r2dbc:postgresql://user@host:5432/db}
	 * @return this builder
	 * @throws IllegalArgumentException if the URL is blank, its host is empty, its port is not a
	 * number from 1 to 65535, or no driver understands it
	 */
	public ReplicatedDataSource.Builder primary(String url) {
		this.primary = ConnectionUrls.server(this.name, "primary", url);
		return self();
	}

	/**
	 * Set the primary from a connection factory; it is wrapped in a pool unless it is one.
	 * @param factory the factory that reaches the primary
	 * @return this builder
	 */
	public ReplicatedDataSource.Builder primary(ConnectionFactory factory) {
		this.primary = ServerSetting.ofFactory("primary", required("primary", factory));
		return self();
	}

	/**
	 * Add a replica from an R2DBC URL.
	 * @param url for example {@code r2dbc:postgresql://user@replica:5432/db}
	 * @return this builder
	 * @throws IllegalArgumentException as {@link #primary(String)} does, naming
	 * {@code replicas[<i>]}
	 */
	public ReplicatedDataSource.Builder replica(String url) {
		this.replicas.add(ConnectionUrls.server(this.name, "replicas[" + this.replicas.size() + "]", url));
		return self();
	}

	/**
	 * Add a replica from a connection factory; it is wrapped in a pool unless it is one.
	 * @param factory the factory that reaches the replica
	 * @return this builder
	 */
	public ReplicatedDataSource.Builder replica(ConnectionFactory factory) {
		String setting = "replicas[" + this.replicas.size() + "]";
		this.replicas.add(ServerSetting.ofFactory(setting, required(setting, factory)));
		return self();
	}

	/**
	 * Set the user of the servers given by URL, in place of the URLs' own; servers given as
	 * connection factories keep theirs.
	 * @param username the user, not blank
	 * @return this builder
	 */
	public ReplicatedDataSource.Builder username(String username) {
		if (username == null || username.isBlank()) {
			throw new InvalidSettingException(this.name, "username", "must not be blank");
		}
		this.credentials = this.credentials.withUser(username);
		return self();
	}

	/**
	 * Set a fixed password of the servers given by URL, in place of the URLs' own. Any character
	 * is fine (a password inside a URL must be percent-encoded). Never shown in messages.
	 * @param password the password, perhaps empty
	 * @return this builder
	 */
	public ReplicatedDataSource.Builder password(CharSequence password) {
		this.credentials = this.credentials.withPassword(required("password", password));
		return self();
	}

	/**
	 * Ask the password of the servers given by URL again for each new physical connection, so
	 * that a rotated password applies without a restart; open connections stay as they are.
	 * The driver calls the supplier on its own thread, often an event loop: it must not block
	 * (keep the current secret in memory, refreshed elsewhere, or give a {@code Publisher}). A
	 * supplier that throws fails that connection with its exception as the cause; one that
	 * returns {@code null} fails it naming the datasource. Supported by r2dbc-postgresql and
	 * r2dbc-mysql; other drivers are refused by {@link #build()}.
	 * @param password asked once per new connection
	 * @return this builder
	 */
	public ReplicatedDataSource.Builder password(Supplier<? extends CharSequence> password) {
		this.credentials = this.credentials.withPassword(required("password", password));
		return self();
	}

	/**
	 * Like {@link #password(Supplier)}, from a publisher subscribed to once per new physical
	 * connection (its first element is the password): for a secret fetched without blocking.
	 * A publisher that replays one value, such as {@code Mono.just}, gives a fixed password.
	 * @param password subscribed to once per new connection
	 * @return this builder
	 */
	public ReplicatedDataSource.Builder password(Publisher<? extends CharSequence> password) {
		this.credentials = this.credentials.withPassword(required("password", password));
		return self();
	}

	/**
	 * Customize every pool of this datasource; the pool's name is set afterwards and cannot be
	 * changed. By default the pools take r2dbc-pool's defaults, with 5 s to acquire and to
	 * create a connection, and a {@code preRelease} that rolls back a transaction left open and
	 * restores auto-commit before a connection goes back to its pool.
	 * @param customizer applied to each pool's configuration builder
	 * @return this builder
	 */
	public ReplicatedDataSource.Builder pool(Consumer<ConnectionPoolConfiguration.Builder> customizer) {
		this.poolCustomizer = required("pool customizer", customizer);
		return self();
	}

	/**
	 * Choose how the reads of a request that has written are served.
	 * @param consistency {@link ReadConsistency#PIN} (the default) or {@link ReadConsistency#CAUSAL}
	 * @return this builder
	 */
	public ReplicatedDataSource.Builder consistency(ReadConsistency consistency) {
		this.consistency = required("consistency", consistency);
		return self();
	}

	/**
	 * Skip replicas whose measured lag is beyond {@code maxLag}; without it, lag is not measured
	 * (unless the consistency is causal) and no replica is skipped for lag.
	 * @param maxLag a positive duration, or {@code null} for no limit
	 * @return this builder
	 */
	public ReplicatedDataSource.Builder maxReplicationLag(@Nullable Duration maxLag) {
		if (maxLag != null && (maxLag.isNegative() || maxLag.isZero())) {
			throw new InvalidSettingException(this.name, "max-replication-lag", "must be positive, was " + maxLag);
		}
		this.maxReplicationLag = maxLag;
		return self();
	}

	/**
	 * How long a causal read may wait for a replica to replay the request's writes before it
	 * goes to the primary. 100 ms by default; zero sends it to the primary unless the probe
	 * already saw a replica replay them.
	 * @param wait zero or a positive duration, at most 10 s
	 * @return this builder
	 */
	public ReplicatedDataSource.Builder causalWait(Duration wait) {
		if (wait == null || wait.isNegative() || wait.compareTo(Duration.ofSeconds(10)) > 0) {
			throw new InvalidSettingException(this.name, "causal-wait", "must be from 0 to 10s, was " + wait);
		}
		this.causalWait = wait;
		return self();
	}

	/**
	 * How often the background probe runs: it measures lag, when tracked, and tries servers out
	 * of rotation again. 1 s by default.
	 * @param interval from 10 ms to 1 minute
	 * @return this builder
	 */
	public ReplicatedDataSource.Builder probeInterval(Duration interval) {
		if (interval == null || interval.compareTo(Duration.ofMillis(10)) < 0
				|| interval.compareTo(Duration.ofMinutes(1)) > 0) {
			throw new InvalidSettingException(this.name, "probe-interval", "must be from 10ms to 1m, was " + interval);
		}
		this.probeInterval = interval;
		return self();
	}

	/**
	 * Whether reads go to the primary when no replica is available (the default), or fail with
	 * {@link DataError.Kind#NO_HEALTHY_TARGET}.
	 * @param fallBack {@code true} to let the primary serve reads
	 * @return this builder
	 */
	public ReplicatedDataSource.Builder readsFallBackToPrimary(boolean fallBack) {
		this.readsFallBackToPrimary = fallBack;
		return self();
	}

	/**
	 * Build the datasource and its pools.
	 * @return the datasource
	 * @throws IllegalStateException if no primary was set
	 * @throws IllegalArgumentException naming the setting, if a factory fails while its pool is
	 * built (no pool is left running then), or if a user or password is set and no server was
	 * given by URL, or a password asked per connection and a URL's driver cannot ask
	 */
	public ReplicatedDataSource build() {
		ServerSetting primarySetting = this.primary;
		if (primarySetting == null) {
			throw new IllegalStateException("datasource '" + this.name + "' has no primary");
		}
		if (!this.credentials.isEmpty() && !primarySetting.fromUrl()
				&& this.replicas.stream().noneMatch(ServerSetting::fromUrl)) {
			throw new InvalidSettingException(this.name, "username/password", "apply to servers given by URL, and "
					+ "this datasource has none: set them on its connection factories");
		}
		return new ReplicatedDataSource(this);
	}

	<T> T required(String setting, @Nullable T value) {
		if (value == null) {
			throw new InvalidSettingException(this.name, setting, "must not be null");
		}
		return value;
	}

	/** This builder as the one type users see: the only subclass there is. */
	private ReplicatedDataSource.Builder self() {
		return (ReplicatedDataSource.Builder) this;
	}
}
