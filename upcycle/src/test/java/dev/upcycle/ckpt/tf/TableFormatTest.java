package dev.upcycle.ckpt.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TableFormatTest {

  @TempDir Path tmp;

  @Test
  void crc32cMatchesTheStandardCheckValueAndMaskInverts() {
    byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
    // CRC-32C (Castagnoli) check value from the CRC catalogue.
    assertEquals(0xE3069283, Crc32c.of(check, 0, check.length));
    for (int x : new int[] {0, 1, -1, 0xE3069283, 0x12345678}) {
      assertEquals(x, Crc32c.unmask(Crc32c.mask(x)));
    }
    // rotr(0, 15) + 0xa282ead8
    assertEquals(0xa282ead8, Crc32c.mask(0));
  }

  @Test
  void manyKeysSpanSeveralBlocksAndReadBackInOrder() throws Exception {
    List<byte[]> keys = new ArrayList<>();
    keys.add(new byte[0]);
    for (int i = 0; i < 2000; i++) {
      keys.add(String.format("layer_%04d/attention/kernel/%s", i / 3, "abc".charAt(i % 3)).getBytes(StandardCharsets.UTF_8));
    }
    Path file = tmp.resolve("t.index");
    try (OutputStream out = Files.newOutputStream(file)) {
      TableWriter w = new TableWriter(out, 512, 16);
      for (int i = 0; i < keys.size(); i++) {
        w.add(keys.get(i), ("value-" + i).getBytes(StandardCharsets.UTF_8));
      }
      w.finish();
    }
    List<TableReader.Entry> read = TableReader.readAll(file);
    assertEquals(keys.size(), read.size());
    for (int i = 0; i < keys.size(); i++) {
      assertArrayEquals(keys.get(i), read.get(i).key());
      assertEquals("value-" + i, new String(read.get(i).value(), StandardCharsets.UTF_8));
    }
    // 2000 entries of ~40 bytes cannot fit one 512-byte block: the index must have many handles.
    assertTrue(Files.size(file) > 40 * 2000 / 4, "file size " + Files.size(file));
  }

  @Test
  void footerEndsWithTheLevelDbMagic() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TableWriter w = new TableWriter(out, 4096, 16);
    w.add(new byte[0], new byte[] {1});
    w.finish();
    byte[] b = out.toByteArray();
    byte[] expected = {0x57, (byte) 0xfb, (byte) 0x80, (byte) 0x8b, 0x24, 0x75, 0x47, (byte) 0xdb};
    byte[] tail = Arrays.copyOfRange(b, b.length - 8, b.length);
    assertArrayEquals(expected, tail);
  }

  @Test
  void unsortedKeysAreRejected() throws Exception {
    TableWriter w = new TableWriter(new ByteArrayOutputStream(), 4096, 16);
    w.add("b".getBytes(StandardCharsets.UTF_8), new byte[0]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> w.add("a".getBytes(StandardCharsets.UTF_8), new byte[0]));
    assertTrue(e.getMessage().contains("'a' after 'b'"), e.getMessage());
  }

  @Test
  void unknownCompressionTypeIsAClearError() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TableWriter w = new TableWriter(out, 4096, 16);
    w.add("k".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3});
    w.finish();
    byte[] b = out.toByteArray();
    // The first data block starts at 0; find its trailer: block = entry(3+1+3) + restarts(4) + count(4) = 15.
    int blockLen = 15;
    b[blockLen] = 2; // neither none (0) nor Snappy (1)
    byte[] withType = Arrays.copyOf(b, blockLen + 1);
    int crc = Crc32c.mask(Crc32c.of(withType, 0, withType.length));
    for (int i = 0; i < 4; i++) {
      b[blockLen + 1 + i] = (byte) (crc >>> (8 * i));
    }
    Path file = tmp.resolve("type2.index");
    Files.write(file, b);
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TableReader.readAll(file));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("compression type 2"), e.getMessage());
  }

  @Test
  void notATableIsAClearError() throws Exception {
    Path file = tmp.resolve("junk.index");
    Files.write(file, new byte[100]);
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TableReader.readAll(file));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("magic"), e.getMessage());
  }

  @Test
  void snappyDecodesLiteralsAndOverlappingCopies() {
    // Hand-encoded from the format description: varint length 13, literal "abc" (tag 0x08),
    // copy len 9 offset 3 with a 1-byte offset (tag 0x15), literal "X" (tag 0x00).
    byte[] in = {13, 0x08, 'a', 'b', 'c', 0x15, 3, 0x00, 'X'};
    assertEquals("abcabcabcabcX", new String(Snappy.uncompress(in), StandardCharsets.US_ASCII));
    // Long literal (tag 60<<2 plus one length byte) of 0..99, then a 2-byte-offset copy of 50 bytes from 100 back.
    byte[] in2 = new byte[2 + 2 + 100 + 3];
    in2[0] = (byte) 0x96;
    in2[1] = 0x01; // 150
    in2[2] = (byte) 0xF0;
    in2[3] = 99;
    for (int i = 0; i < 100; i++) {
      in2[4 + i] = (byte) i;
    }
    in2[104] = (byte) ((49 << 2) | 2);
    in2[105] = 100;
    in2[106] = 0;
    byte[] out = Snappy.uncompress(in2);
    assertEquals(150, out.length);
    for (int i = 0; i < 150; i++) {
      assertEquals(i < 100 ? i : i - 100, out[i]);
    }
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Snappy.uncompress(new byte[] {5, 0x15, 9}));
    assertTrue(e.getMessage().contains("offset"), e.getMessage());
  }
}
