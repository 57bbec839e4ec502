package dev.upcycle.train.data;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.Digests;
import dev.upcycle.provenance.Provenance;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * IDX files (the MNIST / Fashion-MNIST format), plain or gzip: a big-endian header
 * {@code 0x00 0x00 <type 0x08 = u8> <rank>} then {@code rank} u32 dimensions, then the data.
 * Images are {@code 0x00000803} with dims {@code [n, rows, cols]}, labels {@code 0x00000801}
 * with dims {@code [n]}. {@link #toTfRecordFolder} streams both into a TFRecord of image Examples
 * ({@link ExampleCodec#image}: raw u8 {@code image [rows, cols, 1]}, int64 {@code label},
 * {@code height}, {@code width}, {@code channels}) in a folder published with {@link
 * AtomicFolder}, beside its {@code provenance.json} (kind {@code images}).
 */
public final class IdxImages {

  public static final int IMAGES_MAGIC = 0x00000803;
  public static final int LABELS_MAGIC = 0x00000801;

  private IdxImages() {}

  /**
   * What {@link #toTfRecordFolder} published.
   *
   * @param folder the output folder
   * @param records the TFRecord file in it
   * @param examples how many image Examples it holds
   */
  public record Output(Path folder, Path records, long examples) {}

  /** Streaming reader of one u8 IDX file, one item (all dims after the first) at a time. */
  public static final class Reader implements Closeable {
    private final Path file;
    private final DataInputStream in;
    private final int magic;
    private final int[] dims;
    private final int itemBytes;
    private long index;

    private Reader(Path file, DataInputStream in, int magic, int[] dims) {
      this.file = file;
      this.in = in;
      this.magic = magic;
      this.dims = dims;
      long item = 1;
      for (int i = 1; i < dims.length; i++) {
        item *= dims[i];
      }
      checkArgument(item <= Integer.MAX_VALUE, "%s: item of dims %s is too large", file,
          Arrays.toString(dims));
      this.itemBytes = (int) item;
    }

    /** Opens an IDX file of u8 data, gzip detected by its magic bytes. */
    public static Reader open(Path file) throws IOException {
      checkNotNull(file, "file");
      BufferedInputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
      try {
        DataInputStream in = new DataInputStream(Compression.detect(raw).decode(raw));
        int magic = in.readInt();
        if ((magic >>> 16) != 0 || ((magic >>> 8) & 0xff) != 0x08) {
          throw new IOException(String.format(
              "%s: not a u8 IDX file (magic 0x%08x, expected 0x000008NN)", file, magic));
        }
        int rank = magic & 0xff;
        if (rank < 1 || rank > 4) {
          throw new IOException(file + ": IDX rank " + rank + " is not supported (1..4)");
        }
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
          dims[i] = in.readInt();
          if (dims[i] < 0) {
            throw new IOException(file + ": IDX dimension " + i + " is negative: " + dims[i]);
          }
        }
        return new Reader(file, in, magic, dims);
      } catch (EOFException e) {
        raw.close();
        throw new IOException(file + ": IDX header is truncated", e);
      } catch (IOException e) {
        raw.close();
        throw e;
      }
    }

    public Path file() {
      return file;
    }

    public int magic() {
      return magic;
    }

    /** Dimensions from the header, e.g. {@code [n, rows, cols]}. */
    public int[] dims() {
      return dims.clone();
    }

    /** Number of items ({@code dims[0]}). */
    public int count() {
      return dims[0];
    }

    /** The next item's bytes ({@code prod(dims[1:])} of them), or {@code null} after the last. */
    public byte[] next() throws IOException {
      if (index >= dims[0]) {
        return null;
      }
      byte[] item = new byte[itemBytes];
      try {
        in.readFully(item);
      } catch (EOFException e) {
        throw new IOException(String.format(
            "%s: truncated: item %d of %d is incomplete (%d bytes each)",
            file, index, dims[0], itemBytes), e);
      }
      index++;
      return item;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  /**
   * Streams {@code images} ({@code 0x00000803}) and {@code labels} ({@code 0x00000801}) into the
   * folder {@code outDir}, which must not exist and appears complete or not at all: one TFRecord
   * file named as {@link TokenizeJob#shardName} names a single shard, and {@code provenance.json}
   * (the images file and its SHA-256 as the source; the labels file, its SHA-256 and the
   * compression as the options).
   */
  public static Output toTfRecordFolder(Path images, Path labels, Path outDir, Compression compression)
      throws IOException {
    checkNotNull(outDir, "outDir");
    checkNotNull(compression, "compression");
    Path target = outDir.toAbsolutePath().normalize();
    AtomicFolder.checkTarget(target, false);
    try (Reader img = Reader.open(images); Reader lab = Reader.open(labels)) {
      if (img.magic() != IMAGES_MAGIC) {
        throw new IOException(String.format("%s: magic 0x%08x, expected images 0x%08x",
            images, img.magic(), IMAGES_MAGIC));
      }
      if (lab.magic() != LABELS_MAGIC) {
        throw new IOException(String.format("%s: magic 0x%08x, expected labels 0x%08x",
            labels, lab.magic(), LABELS_MAGIC));
      }
      if (img.count() != lab.count()) {
        throw new IOException(String.format("%s holds %d images but %s holds %d labels",
            images, img.count(), labels, lab.count()));
      }
      int rows = img.dims[1];
      int cols = img.dims[2];
      String file = TokenizeJob.shardName(0, 1, compression);
      try (AtomicFolder out = AtomicFolder.stage(target, false)) {
        long examples;
        try (TfRecordWriter w = TfRecordWriter.create(out.path().resolve(file), compression)) {
          for (byte[] px; (px = img.next()) != null; ) {
            byte[] label = lab.next();
            w.write(ExampleCodec.image(
                new ExampleCodec.ImageExample(px, label[0] & 0xff, rows, cols, 1)));
          }
          examples = w.records();
        }
        provenance(images, labels, compression).withOutputsOf(out.path()).writeTo(out.path());
        out.commit();
        return new Output(target, target.resolve(file), examples);
      }
    }
  }

  private static Provenance provenance(Path images, Path labels, Compression compression) throws IOException {
    Path img = images.toAbsolutePath().normalize();
    Path lab = labels.toAbsolutePath().normalize();
    ObjectNode o = Provenance.newOptions();
    o.putObject("labels").put("path", lab.toString()).put("sha256", Digests.sha256(lab));
    o.put("compression", compression.name().toLowerCase(Locale.ROOT));
    return Provenance.of(Provenance.Kind.IMAGES, new Provenance.Source(img.toString(), "idx",
        img.getFileName().toString(), Digests.sha256(img)), o, null, null);
  }
}
