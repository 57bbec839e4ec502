package dev.upcycle.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.hf.HfConfig;
import dev.upcycle.ckpt.hf.SafetensorsShardedReader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JSON metadata files are read as strict UTF-8 and every other content is named as what it is. */
class TextFilesTest {

  @TempDir Path tmp;

  /** Bytes a JSON parser takes for UTF-32 (00 00 00 '{'), then an invalid character: not UTF-8 either. */
  private static final byte[] NOT_UTF8 = {0, 0, 0, '{', (byte) 0x80, 'k', 'r', '"', 0, 0, 0, '}'};

  @Test
  void utf8TextIsRead() throws Exception {
    Path f = Files.writeString(tmp.resolve("a.json"), "{\"name\": \"\u00e9t\u00e9\"}");
    assertEquals("{\"name\": \"\u00e9t\u00e9\"}", TextFiles.readUtf8(f, null));
  }

  @Test
  void bytesThatAreNotUtf8AreNamed() throws Exception {
    Path f = Files.write(tmp.resolve("config.json"), NOT_UTF8);
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TextFiles.readUtf8(f, "t"));
    assertEquals(f + ": tensor 't': is not UTF-8 text (JSON is UTF-8): corrupt file?", e.getMessage());
    // the readers that read such files: config.json said only "Input length = 1", the index threw
    // a bare CharConversionException (SafetensorsFuzzTest, seed 14, index case 1657)
    CheckpointFormatException config = assertThrows(CheckpointFormatException.class, () -> HfConfig.read(f));
    assertTrue(config.getMessage().startsWith(f.toString()) && config.getMessage().contains("not UTF-8"),
        config.getMessage());
    Path index = Files.write(tmp.resolve("model.safetensors.index.json"), NOT_UTF8);
    CheckpointFormatException idx = assertThrows(CheckpointFormatException.class,
        () -> SafetensorsShardedReader.open(index));
    assertTrue(idx.getMessage().startsWith(index.toString()) && idx.getMessage().contains("not UTF-8"),
        idx.getMessage());
  }

  @Test
  void aFileFarLargerThanMetadataIsRefused() throws Exception {
    Path f = tmp.resolve("huge.json");
    try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE_NEW,
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {' '}), TextFiles.MAX_BYTES); // sparse: MAX_BYTES + 1 bytes
    }
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TextFiles.readUtf8(f, null));
    assertTrue(e.getMessage().contains("is larger than 64 MiB"), e.getMessage());
  }

  @Test
  void aFileThatCannotBeOpenedIsNamed() throws Exception {
    Path loop = tmp.resolve("loop.json");
    Files.createSymbolicLink(loop, tmp.resolve("loop2.json"));
    Files.createSymbolicLink(tmp.resolve("loop2.json"), loop);
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TextFiles.readUtf8(loop, null));
    assertTrue(e.getMessage().startsWith(loop + ": cannot be read ("), e.getMessage());
  }
}
