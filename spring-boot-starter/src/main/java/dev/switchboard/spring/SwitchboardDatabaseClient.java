package dev.switchboard.spring;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantResolution;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import org.reactivestreams.Publisher;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.FetchSpec;
import org.springframework.r2dbc.core.RowsFetchSpec;
import org.springframework.r2dbc.core.StatementFilterFunction;
import org.springframework.r2dbc.core.binding.BindMarkersFactory;
import org.springframework.r2dbc.core.binding.BindMarkersFactoryResolver;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * A Spring {@link DatabaseClient} over a {@link RoutingConnectionFactory} whose tenants run on
 * engines with different bind markers (PostgreSQL's {@code $1}, MariaDB's {@code ?}): each
 * statement's named parameters are expanded with the markers of the engine its tenant runs on.
 *
 * <p>Why: a plain {@code DatabaseClient} chooses one {@link BindMarkersFactory} when it is built,
 * from the factory's metadata; over mixed engines no single one fits, and the tenants of the other
 * engine fail to bind (issue 14). This client holds one Spring {@code DatabaseClient} per marker
 * style, all over the same routing factory (so Spring transactions bound to that factory are
 * joined), and builds every statement spec on each of them: a caller's mistakes (a {@code null}
 * value, a blank statement) are thrown at once, as Spring throws them. When the statement is
 * subscribed, the tenant in the Reactor Context (or the registry's default tenant) picks the spec
 * of its datasource's engine, looked up by datasource name in a map built at construction. The SQL
 * is never rewritten: Spring's own parser expands {@code :name} parameters, repeated ones included,
 * and leaves string literals and comments alone.
 *
 * <p>Without a tenant, or with an unknown one, the statement runs on the first style and the
 * routing factory fails it with its usual {@code DataError}. Inside a Spring transaction the
 * context's tenant must be the transaction's. {@link #create} returns a plain client when every
 * datasource uses the same markers. Immutable and thread-safe.
 */
public final class SwitchboardDatabaseClient implements DatabaseClient {

	private final RoutingConnectionFactory routing;

	private final DataSourceRegistry registry;

	/** One client per marker style, in the order the datasources were registered. */
	private final List<DatabaseClient> clients;

	private final List<String> styles;

	/** The index into {@link #clients} of each datasource, by name. */
	private final Map<String, Integer> styleOfDataSource;

	private SwitchboardDatabaseClient(RoutingConnectionFactory routing, Map<String, BindMarkersFactory> byStyle,
			Map<String, Integer> styleOfDataSource) {
		this.routing = routing;
		this.registry = routing.registry();
		this.styles = List.copyOf(byStyle.keySet());
		this.clients = byStyle.values().stream()
				.map(markers -> DatabaseClient.builder().connectionFactory(routing).bindMarkers(markers).build())
				.toList();
		this.styleOfDataSource = new ConcurrentHashMap<>(styleOfDataSource);
	}

	/**
	 * Create a {@code DatabaseClient} over the routing factory that binds each tenant's statements
	 * with its engine's markers.
	 * @param routing the routing factory
	 * @return a plain Spring client if every datasource uses the same bind markers, otherwise a
	 * {@code SwitchboardDatabaseClient}
	 * @throws BindMarkersFactoryResolver.NoBindMarkersFactoryException if Spring knows no bind
	 * markers for a datasource's engine
	 * @throws IllegalArgumentException if the registry has no datasource
	 */
	public static DatabaseClient create(RoutingConnectionFactory routing) {
		Map<String, BindMarkersFactory> byStyle = new LinkedHashMap<>();
		List<String> order = new ArrayList<>();
		Map<String, Integer> styleOfDataSource = new LinkedHashMap<>();
		for (DataSource dataSource : routing.registry().dataSources()) {
			BindMarkersFactory markers = markersOf(dataSource);
			String style = styleOf(markers);
			if (byStyle.putIfAbsent(style, markers) == null) {
				order.add(style);
			}
			styleOfDataSource.put(dataSource.name(), order.indexOf(style));
		}
		if (byStyle.isEmpty()) {
			throw new IllegalArgumentException("the routing factory has no datasource to take bind markers from");
		}
		if (byStyle.size() == 1) {
			return DatabaseClient.builder().connectionFactory(routing).bindMarkers(byStyle.get(order.get(0))).build();
		}
		return new SwitchboardDatabaseClient(routing, byStyle, styleOfDataSource);
	}

	/** Spring's choice for the datasource's engine, from its primary's metadata. */
	static BindMarkersFactory markersOf(DataSource dataSource) {
		return BindMarkersFactoryResolver.resolve(dataSource.primary().connectionFactory());
	}

	/** What the markers look like ({@code $1}, {@code ?}, {@code @P0_p}): equal styles bind alike. */
	static String styleOf(BindMarkersFactory markers) {
		return markers.create().next("p").getPlaceholder();
	}

	/**
	 * Return the marker styles this client expands to, one per engine family, in registration
	 * order: {@code $1} for PostgreSQL, {@code ?} for MySQL and MariaDB.
	 * @return the placeholder each style gives its first parameter
	 */
	public List<String> styles() {
		return this.styles;
	}

	@Override
	public ConnectionFactory getConnectionFactory() {
		return this.routing;
	}

	@Override
	public GenericExecuteSpec sql(String sql) {
		return new Spec(each(client -> client.sql(sql)));
	}

	@Override
	public GenericExecuteSpec sql(Supplier<String> sqlSupplier) {
		return new Spec(each(client -> client.sql(sqlSupplier)));
	}

	/** Connection-level work binds nothing through markers: any of the clients does. */
	@Override
	public <T> Mono<T> inConnection(Function<Connection, Mono<T>> action) {
		return this.clients.get(0).inConnection(action);
	}

	@Override
	public <T> Flux<T> inConnectionMany(Function<Connection, Flux<T>> action) {
		return this.clients.get(0).inConnectionMany(action);
	}

	private List<GenericExecuteSpec> each(Function<DatabaseClient, GenericExecuteSpec> create) {
		List<GenericExecuteSpec> specs = new ArrayList<>(this.clients.size());
		for (DatabaseClient client : this.clients) {
			specs.add(create.apply(client));
		}
		return specs;
	}

	/**
	 * The index of the style the statement's tenant needs; 0 when routing will refuse the
	 * statement anyway (no tenant, unknown tenant), so that the refusal is routing's own error.
	 */
	private int styleFor(ContextView context) {
		DataSource dataSource = TenantResolution.peek(context, this.registry);
		if (dataSource == null) {
			return 0;
		}
		Integer style = this.styleOfDataSource.get(dataSource.name());
		return style != null ? style : this.styleOfDataSource.computeIfAbsent(dataSource.name(), this::styleOfLateDataSource);
	}

	/** A datasource added after this client was built: its engine must be one of the known ones. */
	private Integer styleOfLateDataSource(String name) {
		for (DataSource dataSource : this.registry.dataSources()) {
			if (dataSource.name().equals(name)) {
				int style = this.styles.indexOf(styleOf(markersOf(dataSource)));
				if (style >= 0) {
					return style;
				}
				throw new IllegalStateException("datasource '" + name + "' was added after the DatabaseClient was built "
						+ "and uses bind markers of an engine no other datasource has; build a new client");
			}
		}
		return 0;
	}

	private <T> T chosen(List<T> perStyle, ContextView context) {
		return perStyle.get(styleFor(context));
	}

	private static <S, T> List<T> eachOf(List<S> specs, Function<S, T> function) {
		List<T> mapped = new ArrayList<>(specs.size());
		for (S spec : specs) {
			mapped.add(function.apply(spec));
		}
		return mapped;
	}

	/** A statement spec built on every style; the tenant's is subscribed. */
	private final class Spec implements GenericExecuteSpec {

		private final List<GenericExecuteSpec> specs;

		Spec(List<GenericExecuteSpec> specs) {
			this.specs = specs;
		}

		private Spec with(Function<GenericExecuteSpec, GenericExecuteSpec> change) {
			return new Spec(eachOf(this.specs, change));
		}

		@Override
		public GenericExecuteSpec bind(int index, Object value) {
			return with(spec -> spec.bind(index, value));
		}

		@Override
		public GenericExecuteSpec bindNull(int index, Class<?> type) {
			return with(spec -> spec.bindNull(index, type));
		}

		@Override
		public GenericExecuteSpec bind(String name, Object value) {
			return with(spec -> spec.bind(name, value));
		}

		@Override
		public GenericExecuteSpec bindNull(String name, Class<?> type) {
			return with(spec -> spec.bindNull(name, type));
		}

		@Override
		public GenericExecuteSpec bindValues(List<?> source) {
			return with(spec -> spec.bindValues(source));
		}

		@Override
		public GenericExecuteSpec bindValues(Map<String, ?> source) {
			return with(spec -> spec.bindValues(source));
		}

		@Override
		public GenericExecuteSpec bindProperties(Object source) {
			return with(spec -> spec.bindProperties(source));
		}

		@Override
		public GenericExecuteSpec filter(StatementFilterFunction filter) {
			return with(spec -> spec.filter(filter));
		}

		@Override
		public <R> RowsFetchSpec<R> map(Function<? super Readable, R> mappingFunction) {
			return new Rows<>(eachOf(this.specs, spec -> spec.map(mappingFunction)));
		}

		@Override
		public <R> RowsFetchSpec<R> map(BiFunction<Row, RowMetadata, R> mappingFunction) {
			return new Rows<>(eachOf(this.specs, spec -> spec.map(mappingFunction)));
		}

		@Override
		public <R> RowsFetchSpec<R> mapValue(Class<R> mappedClass) {
			return new Rows<>(eachOf(this.specs, spec -> spec.mapValue(mappedClass)));
		}

		@Override
		public <R> RowsFetchSpec<R> mapProperties(Class<R> mappedClass) {
			return new Rows<>(eachOf(this.specs, spec -> spec.mapProperties(mappedClass)));
		}

		@Override
		public <R> Flux<R> flatMap(Function<Result, Publisher<R>> mappingFunction) {
			return Flux.deferContextual(context -> chosen(this.specs, context).flatMap(mappingFunction));
		}

		@Override
		public FetchSpec<Map<String, Object>> fetch() {
			return new Fetch(eachOf(this.specs, GenericExecuteSpec::fetch));
		}

		@Override
		public Mono<Void> then() {
			return Mono.deferContextual(context -> chosen(this.specs, context).then());
		}
	}

	/** Rows of a statement built on every style; the tenant's is subscribed. */
	private class Rows<T> implements RowsFetchSpec<T> {

		private final List<? extends RowsFetchSpec<T>> specs;

		Rows(List<? extends RowsFetchSpec<T>> specs) {
			this.specs = specs;
		}

		@Override
		public Mono<T> one() {
			return Mono.deferContextual(context -> chosen(this.specs, context).one());
		}

		@Override
		public Mono<T> first() {
			return Mono.deferContextual(context -> chosen(this.specs, context).first());
		}

		@Override
		public Flux<T> all() {
			return Flux.deferContextual(context -> chosen(this.specs, context).all());
		}
	}

	/** Rows or the update count of a statement built on every style. */
	private final class Fetch extends Rows<Map<String, Object>> implements FetchSpec<Map<String, Object>> {

		private final List<FetchSpec<Map<String, Object>>> fetches;

		Fetch(List<FetchSpec<Map<String, Object>>> fetches) {
			super(fetches);
			this.fetches = fetches;
		}

		@Override
		public Mono<Long> rowsUpdated() {
			return Mono.deferContextual(context -> chosen(this.fetches, context).rowsUpdated());
		}
	}

	@Override
	public String toString() {
		return "SwitchboardDatabaseClient" + this.styles;
	}
}
