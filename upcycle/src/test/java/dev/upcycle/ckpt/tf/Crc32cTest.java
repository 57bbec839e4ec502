package dev.upcycle.ckpt.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** Combining CRCs agrees with the JDK's CRC32C over the concatenated bytes. */
class Crc32cTest {

  private static int crc(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  @Test
  void combineEqualsTheCrcOfTheConcatenation() {
    Random rnd = new Random(7);
    int[] lengths = {0, 1, 2, 3, 7, 8, 63, 64, 1000, 4096, 65_537};
    for (int la : lengths) {
      for (int lb : lengths) {
        byte[] all = new byte[la + lb];
        rnd.nextBytes(all);
        int expected = crc(all, 0, all.length);
        int combined = Crc32c.combine(crc(all, 0, la), crc(all, la, lb), lb);
        assertEquals(expected, combined, "lengths " + la + " + " + lb);
      }
    }
  }

  @Test
  void repeatEqualsTheCrcOfTheRepeatedBytes() {
    Random rnd = new Random(11);
    for (int len : new int[] {1, 5, 4096, 10_001}) {
      byte[] piece = new byte[len];
      rnd.nextBytes(piece);
      for (int copies : new int[] {1, 2, 3, 8, 33}) {
        CRC32C c = new CRC32C();
        for (int i = 0; i < copies; i++) {
          c.update(piece);
        }
        assertEquals((int) c.getValue(), Crc32c.repeat(crc(piece, 0, len), len, copies),
            copies + " copies of " + len + " bytes");
      }
    }
  }
}
