package dev.switchboard.spring;

import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.DirectoryListener;
import dev.switchboard.r2dbc.Placement;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * One INFO line per change of the tenant directory: a tenant onboarded, moved, offboarded or
 * drained from a placement it left, a datasource added or removed. The failures of its catalog (a
 * refresh that failed, an entry rejected) are logged at WARN by the directory itself, where the
 * cause is known, and counted by {@link MicrometerDirectoryListener}; they are not logged twice.
 */
final class DirectoryLog implements DirectoryListener {

	private static final Log logger = LogFactory.getLog(DirectoryLog.class);

	@Override
	public void onboarded(TenantId tenant, Placement placement) {
		logger.info("Switchboard: tenant '" + tenant + "' onboarded on datasource '" + placement + "'");
	}

	@Override
	public void moved(TenantId tenant, Placement from, Placement to) {
		logger.info("Switchboard: tenant '" + tenant + "' moved from datasource '" + from + "' to '" + to
				+ "'; its running work finishes on '" + from + "'");
	}

	@Override
	public void offboarded(TenantId tenant, Placement from) {
		logger.info("Switchboard: tenant '" + tenant + "' offboarded from datasource '" + from
				+ "'; its new requests are refused, its running work finishes");
	}

	@Override
	public void drained(TenantId tenant, Placement placement) {
		logger.info("Switchboard: tenant '" + tenant + "' has no connection left on datasource '" + placement + "'");
	}

	@Override
	public void dataSourceAdded(String dataSource) {
		logger.info("Switchboard: datasource '" + dataSource + "' added");
	}

	@Override
	public void dataSourceRemoved(String dataSource) {
		logger.info("Switchboard: datasource '" + dataSource + "' removed; its pools close once its last work is done");
	}
}
