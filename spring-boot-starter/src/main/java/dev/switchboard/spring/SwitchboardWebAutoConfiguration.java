package dev.switchboard.spring;

import java.security.Principal;

import dev.switchboard.api.DataSourceRegistry;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.BeanClassLoaderAware;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.util.ClassUtils;
import org.springframework.web.reactive.DispatcherHandler;
import org.springframework.web.server.WebFilter;
import reactor.core.publisher.Mono;

/**
 * The web side of Switchboard in a WebFlux application: the {@link TenantResolver} that
 * {@code switchboard.web.tenant-from} chooses, the {@link TenantAccess} check, the
 * {@link TenantWebFilter}, and the {@link SwitchboardExceptionHandler} that answers failures with
 * problem details.
 *
 * <p>Spring Security is optional: the token-claim resolver and the claims' access check load its
 * classes only when chosen. With Spring Security on the classpath, a header resolver logs a WARN at
 * start, since any client can then name any tenant, unless
 * {@code switchboard.web.trust-tenant-header=true} says a gateway sets the header.
 */
@AutoConfiguration(after = SwitchboardAutoConfiguration.class)
@ConditionalOnClass(WebFilter.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
@ConditionalOnProperty(prefix = "switchboard.web", name = "enabled", matchIfMissing = true)
public class SwitchboardWebAutoConfiguration implements BeanClassLoaderAware {

	private static final Log logger = LogFactory.getLog(SwitchboardWebAutoConfiguration.class);

	private static final String SPRING_SECURITY = "org.springframework.security.core.context.ReactiveSecurityContextHolder";

	private static final String RESOURCE_SERVER = "org.springframework.security.oauth2.server.resource.authentication.AbstractOAuth2TokenAuthenticationToken";

	private ClassLoader classLoader = SwitchboardWebAutoConfiguration.class.getClassLoader();

	@Override
	public void setBeanClassLoader(ClassLoader classLoader) {
		this.classLoader = classLoader;
	}

	@Bean
	@ConditionalOnMissingBean
	TenantResolver switchboardTenantResolver(SwitchboardProperties properties) {
		SwitchboardProperties.Web web = properties.web();
		return switch (web.tenantFrom()) {
			case JWT_CLAIM -> {
				if (!ClassUtils.isPresent(RESOURCE_SERVER, this.classLoader)) {
					throw new SwitchboardConfigurationException("switchboard.web.tenant-from", "is jwt-claim, which needs Spring"
							+ " Security's resource server: add spring-boot-starter-security-oauth2-resource-server");
				}
				yield TenantResolver.jwtClaim(web.tenantClaim());
			}
			case PRINCIPAL -> TenantResolver.principal(Principal::getName);
			case SUBDOMAIN -> {
				if (web.tenantDomain() == null || web.tenantDomain().isBlank()) {
					throw new SwitchboardConfigurationException("switchboard.web.tenant-domain",
							"must be set when switchboard.web.tenant-from is subdomain, for example example.com");
				}
				yield TenantResolver.subdomain(web.tenantDomain());
			}
			case PATH -> {
				try {
					yield TenantResolver.path(web.tenantPath());
				}
				catch (IllegalArgumentException ex) {
					throw new SwitchboardConfigurationException("switchboard.web.tenant-path", "is invalid: " + ex.getMessage(), ex);
				}
			}
			case HEADER -> {
				if (!web.trustTenantHeader() && ClassUtils.isPresent(SPRING_SECURITY, this.classLoader)) {
					logger.warn("Switchboard takes the tenant from the " + web.tenantHeader() + " request header, which"
							+ " any client can set to any tenant; Spring Security is present, so take it from the caller"
							+ " (switchboard.web.tenant-from=jwt-claim or principal), or set"
							+ " switchboard.web.trust-tenant-header=true if a gateway sets the header");
				}
				yield TenantResolver.header(web.tenantHeader());
			}
		};
	}

	@Bean
	TenantWebFilter switchboardTenantWebFilter(TenantResolver resolver, DataSourceRegistry registry,
			SwitchboardProperties properties, ObjectProvider<TenantAccess> access,
			ObjectProvider<DispatcherHandler> dispatcher) {
		SwitchboardProperties.Web web = properties.web();
		return new TenantWebFilter(resolver, registry, web.excludedPaths(), web.causalTokenHeader(),
				accessCheck(web, access.getIfAvailable()), dispatcher.getIfUnique());
	}

	/**
	 * The application's check, else the token's claims; none when turned off, or when the tenant is
	 * the principal's own name.
	 */
	private @Nullable TenantAccess accessCheck(SwitchboardProperties.Web web, @Nullable TenantAccess declared) {
		if (!web.checkTenantAccess()) {
			return null;
		}
		if (declared != null) {
			return declared;
		}
		if (web.tenantFrom() == SwitchboardProperties.TenantFrom.PRINCIPAL) {
			return null;
		}
		if (ClassUtils.isPresent(RESOURCE_SERVER, this.classLoader)) {
			return TenantAccess.tokenClaims(web.tenantClaim(), web.tenantsClaim());
		}
		// An authenticated caller without Spring Security's tokens: only a declared check can know.
		return (caller, tenant) -> Mono.just(false);
	}

	@Bean
	@ConditionalOnMissingBean
	SwitchboardExceptionHandler switchboardExceptionHandler(ServerCodecConfigurer codecs) {
		return new SwitchboardExceptionHandler(codecs);
	}
}
