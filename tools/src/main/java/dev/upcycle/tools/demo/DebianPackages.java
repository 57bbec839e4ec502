package dev.upcycle.tools.demo;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Debian packages the demo and the experiments read data or run tools from: installs one with
 * apt-get when this process runs as root, otherwise says how.
 */
public final class DebianPackages {

  private DebianPackages() {}

  /** True when this process may install packages (root with apt-get). */
  public static boolean canInstall() {
    return "root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/bin/apt-get"));
  }

  /**
   * Installs {@code pkg} with apt-get (an {@code apt-get update} and a second try when the first
   * fails). Returns whether apt-get succeeded.
   */
  public static boolean install(String pkg, String why, PrintWriter log) throws IOException, InterruptedException {
    log.printf("installing Debian package %s (%s) with apt-get%n", pkg, why);
    log.flush();
    if (run("apt-get", "install", "-y", "-qq", pkg) == 0) {
      return true;
    }
    run("apt-get", "update", "-qq");
    return run("apt-get", "install", "-y", "-qq", pkg) == 0;
  }

  /**
   * The path of the program {@code command} (searched on the PATH), installing {@code pkg} first
   * when it is missing and that is possible.
   *
   * @throws IOException naming the program and the package when it cannot be had
   */
  public static Path command(String command, String pkg, PrintWriter log) throws IOException, InterruptedException {
    Path found = onPath(command);
    if (found == null && canInstall()) {
      install(pkg, "for " + command, log);
      found = onPath(command);
    }
    if (found == null) {
      throw new IOException("the program " + command + " was not found on the PATH: install Debian's " + pkg
          + " package (`sudo apt-get install " + pkg + "`)");
    }
    return found;
  }

  /** {@code command} on the PATH, or null. */
  public static Path onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, command);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private static int run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    p.getOutputStream().close();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }
}
