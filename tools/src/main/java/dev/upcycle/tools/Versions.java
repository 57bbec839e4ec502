package dev.upcycle.tools;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import org.tensorflow.TensorFlow;

/** Versions shown by {@code upcycle --version}. */
public final class Versions {

  private static final String RESOURCE = "version.properties";

  private Versions() {}

  /** This project's version, e.g. {@code 0.1.0-SNAPSHOT} (from a resource filtered at build time). */
  public static String project() {
    try (InputStream in = Versions.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("resource dev/upcycle/tools/" + RESOURCE + " is missing from the classpath");
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read dev/upcycle/tools/" + RESOURCE, e);
    }
  }

  /** The TensorFlow runtime version (loads the native library), or a note saying why it is unavailable. */
  public static String tensorflow() {
    try {
      return TensorFlow.version();
    } catch (LinkageError | RuntimeException e) {
      return "unavailable (" + e + ")";
    }
  }
}
