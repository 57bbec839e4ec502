package dev.upcycle.train.metrics;

import static com.google.common.base.Preconditions.checkNotNull;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.Summary;

/**
 * A TensorBoard event file written by hand: {@code events.out.tfevents.<secs>.<host>} in the given
 * folder, TFRecord-framed {@link Event} protos, the first one {@code file_version: "brain.Event:2"},
 * then one event per step with a {@code simple_value} per scalar tag.
 */
public final class EventFileWriter implements AutoCloseable {

  private final Path file;
  private final OutputStream stream;
  private final TfRecordWriter records;

  public EventFileWriter(Path folder) throws IOException {
    checkNotNull(folder, "folder");
    Files.createDirectories(folder);
    long secs = System.currentTimeMillis() / 1000;
    Path f = folder.resolve("events.out.tfevents." + secs + "." + host());
    for (int i = 1; Files.exists(f); i++) {
      f = folder.resolve("events.out.tfevents." + secs + "." + host() + "." + i);
    }
    this.file = f;
    this.stream = new BufferedOutputStream(Files.newOutputStream(f, StandardOpenOption.CREATE_NEW));
    this.records = new TfRecordWriter(stream);
    records.write(Event.newBuilder().setWallTime(System.currentTimeMillis() / 1000.0)
        .setFileVersion("brain.Event:2").build().toByteArray());
    records.flush();
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9_.-]", "_");
    } catch (IOException e) {
      return "localhost";
    }
  }

  public Path file() {
    return file;
  }

  /** One event at {@code step} with a scalar per tag (in map order). */
  public void scalars(long step, Map<String, Double> values) throws IOException {
    Summary.Builder s = Summary.newBuilder();
    values.forEach((tag, v) -> s.addValue(Summary.Value.newBuilder().setTag(tag).setSimpleValue(v.floatValue())));
    records.write(Event.newBuilder().setWallTime(System.currentTimeMillis() / 1000.0).setStep(step).setSummary(s)
        .build().toByteArray());
  }

  public void flush() throws IOException {
    records.flush();
  }

  @Override
  public void close() throws IOException {
    stream.close();
  }
}
