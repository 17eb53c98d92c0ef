package dev.switchboard.r2dbc;

import java.util.Comparator;

import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link TenantDirectory} says of one tenant at one moment, for admin pages: a tenant on a
 * placement it left (by a move or an offboard) is listed again, {@link State#DRAINING}, until its
 * last connection there is back.
 * @param tenant the tenant
 * @param placement where it lives (or lived, while draining), or {@code null} once offboarded
 * @param state its state on that placement
 * @param connections how many connections it holds there now
 */
public record DirectoryEntry(TenantId tenant, @Nullable Placement placement, State state, long connections) {

	static final Comparator<DirectoryEntry> ORDER = Comparator.comparing(DirectoryEntry::tenant)
			.thenComparing(entry -> entry.state().ordinal());

	/** The state of a tenant on a placement. */
	public enum State {

		/** Routable: new work goes there. */
		ACTIVE,

		/** Left (moved or offboarded): running work finishes there; no new work goes there. */
		DRAINING,

		/** Offboarded: new work for the tenant is refused. */
		OFFBOARDED
	}

	static DirectoryEntry of(Tenancy tenancy, boolean leaving) {
		State state = leaving ? State.DRAINING : tenancy.isTombstone() ? State.OFFBOARDED : State.ACTIVE;
		return new DirectoryEntry(tenancy.tenant, tenancy.placement, state, tenancy.connections());
	}
}
