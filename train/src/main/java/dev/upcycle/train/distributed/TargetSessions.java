package dev.upcycle.train.distributed;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteDeviceList;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListCount;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListName;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SessionListDevices;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetConfig;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetTarget;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.internal.c_api.TF_DeviceList;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.proto.ConfigProto;

/**
 * Sessions whose target is a TF server ({@code grpc://host:port}). TF Java's public constructors
 * cannot take a target; the C API can ({@code TF_SetTarget} on the session options), and TF Java
 * wraps a native session in a {@link Session} through a package-private constructor, reached here
 * by reflection (TFJAVA-NOTES.md, "Distributed runtime"). The one place that does this.
 */
public final class TargetSessions {

  private TargetSessions() {}

  /** A session over {@code graph} run by the master at {@code target}, with {@code config}. */
  public static Session open(Graph graph, String target, ConfigProto config) {
    checkNotNull(graph, "graph");
    checkArgument(target != null && target.startsWith("grpc://"), "session target must be grpc://host:port, got %s",
        target);
    checkNotNull(config, "config");
    TF_SessionOptions opts = TF_NewSessionOptions();
    try (TF_Status status = TF_Status.newStatus(); BytePointer bytes = new BytePointer(config.toByteArray())) {
      TF_SetTarget(opts, target);
      TF_SetConfig(opts, bytes, bytes.capacity(), status);
      status.throwExceptionIfNotOK();
      TF_Session session;
      try (AutoCloseable ref = reference(graph)) {
        session = TF_NewSession(nativeGraph(ref), opts, status);
      }
      status.throwExceptionIfNotOK();
      return wrap(graph, session);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("cannot open a session on " + target + ": " + e.getMessage(), e);
    } finally {
      TF_DeleteSessionOptions(opts);
    }
  }

  /** The devices a session can place ops on (for a target session: every task's devices). */
  public static List<String> devices(Session session) {
    checkNotNull(session, "session");
    try (TF_Status status = TF_Status.newStatus()) {
      TF_DeviceList list = TF_SessionListDevices(nativeSession(session), status);
      status.throwExceptionIfNotOK();
      try {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < TF_DeviceListCount(list); i++) {
          out.add(TF_DeviceListName(list, i, status).getString());
          status.throwExceptionIfNotOK();
        }
        return out;
      } finally {
        TF_DeleteDeviceList(list);
      }
    }
  }

  private static AutoCloseable reference(Graph graph) throws ReflectiveOperationException {
    Method ref = Graph.class.getDeclaredMethod("ref");
    ref.setAccessible(true);
    return (AutoCloseable) ref.invoke(graph);
  }

  private static TF_Graph nativeGraph(AutoCloseable ref) throws ReflectiveOperationException {
    Method handle = ref.getClass().getDeclaredMethod("nativeHandle");
    handle.setAccessible(true);
    return (TF_Graph) handle.invoke(ref);
  }

  /** The native graph of {@code graph}, valid while the graph is open (for C API calls on it). */
  static TF_Graph nativeGraph(Graph graph) {
    try (AutoCloseable ref = reference(graph)) {
      return nativeGraph(ref);
    } catch (Exception e) {
      throw new IllegalStateException("cannot reach the native graph of TF Java " + e.getMessage(), e);
    }
  }

  private static Session wrap(Graph graph, TF_Session session) throws ReflectiveOperationException {
    Constructor<Session> c = Session.class.getDeclaredConstructor(Graph.class, TF_Session.class);
    c.setAccessible(true);
    return c.newInstance(graph, session);
  }

  private static TF_Session nativeSession(Session session) {
    try {
      var f = Session.class.getDeclaredField("nativeHandle");
      f.setAccessible(true);
      return (TF_Session) f.get(session);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot reach the native session of TF Java: " + e.getMessage(), e);
    }
  }
}
