package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkNotNull;

import java.util.function.Consumer;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.proto.ConfigProto;

/** Opening the session of a benchmark graph. */
final class BenchSessions {

  private BenchSessions() {}

  /** A session over {@code graph} after {@code init} ran in it; closed again if {@code init} fails. */
  static Session openInitialized(Graph graph, ConfigProto config, Consumer<Session> init) {
    checkNotNull(init, "init");
    Session s = new Session(checkNotNull(graph, "graph"), checkNotNull(config, "config"));
    try {
      init.accept(s);
      return s;
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
  }
}
