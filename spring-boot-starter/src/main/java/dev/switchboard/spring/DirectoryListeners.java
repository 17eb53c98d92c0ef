package dev.switchboard.spring;

import java.util.List;
import java.util.function.Consumer;

import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.DirectoryListener;
import dev.switchboard.r2dbc.Placement;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Tells every {@link DirectoryListener} bean, the starter's and the application's, in their order.
 * The directory calls its listener after a change has taken effect, on the thread that made it: a
 * listener that throws is logged and skipped, so that it can neither fail the change's caller nor
 * keep the listeners after it from hearing of it.
 */
final class DirectoryListeners implements DirectoryListener {

	private static final Log logger = LogFactory.getLog(DirectoryListeners.class);

	private final List<DirectoryListener> listeners;

	private DirectoryListeners(List<DirectoryListener> listeners) {
		this.listeners = listeners;
	}

	static DirectoryListener of(List<DirectoryListener> listeners) {
		List<DirectoryListener> told = listeners.stream().filter(listener -> listener != DirectoryListener.NONE).toList();
		return told.isEmpty() ? DirectoryListener.NONE : new DirectoryListeners(told);
	}

	@Override
	public void onboarded(TenantId tenant, Placement placement) {
		each(listener -> listener.onboarded(tenant, placement));
	}

	@Override
	public void moved(TenantId tenant, Placement from, Placement to) {
		each(listener -> listener.moved(tenant, from, to));
	}

	@Override
	public void offboarded(TenantId tenant, Placement from) {
		each(listener -> listener.offboarded(tenant, from));
	}

	@Override
	public void drained(TenantId tenant, Placement placement) {
		each(listener -> listener.drained(tenant, placement));
	}

	@Override
	public void dataSourceAdded(String dataSource) {
		each(listener -> listener.dataSourceAdded(dataSource));
	}

	@Override
	public void dataSourceRemoved(String dataSource) {
		each(listener -> listener.dataSourceRemoved(dataSource));
	}

	@Override
	public void refreshFailed(Throwable failure) {
		each(listener -> listener.refreshFailed(failure));
	}

	@Override
	public void entryRejected(@Nullable String tenant, String problem) {
		each(listener -> listener.entryRejected(tenant, problem));
	}

	private void each(Consumer<DirectoryListener> event) {
		for (DirectoryListener listener : this.listeners) {
			try {
				event.accept(listener);
			}
			catch (RuntimeException ex) {
				logger.warn("Switchboard: directory listener " + listener + " failed; the change has taken effect", ex);
			}
		}
	}
}
