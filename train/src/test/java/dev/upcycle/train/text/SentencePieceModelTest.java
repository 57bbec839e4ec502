package dev.upcycle.train.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Expected data comes from outside this code: the {@code .vocab} files shipped with the models,
 * and tokenisations published next to them (seqio's vocabularies_test.py, the SentencePiece
 * Python README for test_model.model, PEGASUS's sp_text_encoder_test.cc).
 */
class SentencePieceModelTest {

  static SentencePieceModel seqio;
  static SentencePieceModel google;
  static SentencePieceModel pegasus;

  @BeforeAll
  static void load() throws IOException {
    seqio = SentencePieceModel.load(Fixtures.fixture("spm_seqio_test/sentencepiece.model"));
    google = SentencePieceModel.load(Fixtures.fixture("spm_google_test_model/test_model.model"));
    pegasus = SentencePieceModel.load(Fixtures.fixture("spm_pegasus_sp_test/sp_test.model"));
  }

  /** Compares every piece and score with the tab-separated {@code .vocab} file. */
  private static void assertMatchesVocabFile(SentencePieceModel m, String vocabFixture)
      throws IOException {
    List<String> lines = Files.readAllLines(Fixtures.fixture(vocabFixture), StandardCharsets.UTF_8);
    assertEquals(lines.size(), m.vocabSize());
    for (int id = 0; id < lines.size(); id++) {
      String[] cols = lines.get(id).split("\t");
      assertEquals(cols[0], m.idToPiece(id), "piece " + id);
      assertEquals(id, m.pieceToId(cols[0]), "id of " + cols[0]);
      float expected = Float.parseFloat(cols[1]);
      assertEquals(expected, m.score(id), 1e-5 * Math.max(1, Math.abs(expected)), "score " + id);
    }
  }

  @Test
  void seqioModelSpec() throws IOException {
    assertEquals(26, seqio.vocabSize());
    assertEquals(ModelType.UNIGRAM, seqio.modelType());
    assertEquals(0, seqio.padId());
    assertEquals(1, seqio.eosId());
    assertEquals(2, seqio.unkId());
    assertEquals(-1, seqio.bosId());
    assertEquals("nmt_nfkc", seqio.normalizerSpec().name());
    assertEquals(PieceType.CONTROL, seqio.pieceType(0));
    assertEquals(PieceType.UNKNOWN, seqio.pieceType(2));
    assertEquals(PieceType.NORMAL, seqio.pieceType(3));
    assertMatchesVocabFile(seqio, "spm_seqio_test/sentencepiece.vocab");
  }

  @Test
  void seqioEncodeDecodeAsInSeqioTests() {
    int[] expected = {11, 8, 6, 3, 8, 6, 3, 5, 10};
    assertArrayEquals(expected, seqio.encode("this is a test"));
    assertEquals("this is a test", seqio.decode(expected));
    // seqio test_force_repeated_whitespace_preservation, default normalizer
    assertEquals("a a a a", seqio.decode(seqio.encode("a a  a   a")));
  }

  @Test
  void seqioUnknownRunsBecomeOneUnknownId() {
    // 'ü', 'ß' and 'q' are not in the 26-piece vocabulary; a run of them is one <unk>
    int[] ids = seqio.encode("test üßq test");
    assertArrayEquals(new int[] {10, 3, 2, 10}, ids);
    assertEquals("test  \u2047  test", seqio.decode(ids));
  }

  @Test
  void googleModelAsInSentencePieceReadme() {
    assertEquals(1000, google.vocabSize());
    assertEquals(0, google.unkId());
    assertEquals(1, google.bosId());
    assertEquals(2, google.eosId());
    assertEquals(-1, google.padId());
    assertEquals(1, google.pieceToId("<s>"));
    assertEquals("</s>", google.idToPiece(2));
    assertEquals("\r", google.idToPiece(3));
    assertEquals("\u2581", google.idToPiece(4));
    assertEquals("nfkc", google.normalizerSpec().name());
    assertArrayEquals(new int[] {284, 47, 11, 4, 15, 400}, google.encode("This is a test"));
    assertEquals(List.of("\u2581This", "\u2581is", "\u2581a", "\u2581", "t", "est"),
        google.encodeAsPieces("This is a test"));
    assertArrayEquals(new int[] {151, 88, 21, 887}, google.encode("Hello world"));
    assertEquals("This is a test", google.decode(new int[] {284, 47, 11, 4, 15, 400}));
  }

  @Test
  void pegasusBpeModelSpec() throws IOException {
    assertEquals(8000, pegasus.vocabSize());
    assertEquals(ModelType.BPE, pegasus.modelType());
    assertTrue(pegasus.byteFallback());
    assertEquals(0, pegasus.padId());
    assertEquals(1, pegasus.eosId());
    assertEquals(2, pegasus.unkId());
    assertEquals(3, pegasus.bosId());
    assertEquals(PieceType.BYTE, pegasus.pieceType(4));
    assertEquals("<0x00>", pegasus.idToPiece(4));
    assertEquals("<0xFF>", pegasus.idToPiece(259));
    assertMatchesVocabFile(pegasus, "spm_pegasus_sp_test/sp_test.vocab");
  }

  @Test
  void pegasusEncodeAsInPegasusTests() {
    String text = "the quick brown fox jumps over the lazy dog";
    int[] expected = {264, 1807, 3516, 1557, 7965, 561, 501, 1051, 581, 264, 545, 7987, 7944, 3473};
    assertArrayEquals(expected, pegasus.encode(text));
    assertEquals(text, pegasus.decode(expected));
    // decoding with trailing pad / eos (control pieces) gives the same text
    int[] withControl = java.util.Arrays.copyOf(expected, expected.length + 2);
    withControl[expected.length] = 1;
    assertEquals(text, pegasus.decode(withControl));
  }

  @Test
  void pegasusByteFallbackAsInPegasusTests() {
    int[] ids = pegasus.encode("\u2EE6 \u2EED");
    // ▁ then the UTF-8 bytes E2 BB A6 / E2 BB AD as <0xXX> pieces (id = 4 + byte)
    assertArrayEquals(new int[] {7927, 230, 191, 170, 7927, 230, 191, 177}, ids);
    assertEquals("\u2EE6 \u2EED", pegasus.decode(ids));
    String unicode = "\u0267\u0119\u013B\u013D\u00D2";
    assertEquals(unicode, pegasus.decode(pegasus.encode(unicode)));
  }

  @Test
  void normalisationAgreesWithNfkcOnCompatibilityCharacters() {
    String[] samples = {
      "\uFF48\uFF45\uFF4C\uFF4C\uFF4F\u3000\uFF57\uFF4F\uFF52\uFF4C\uFF44", // fullwidth + ideographic space
      "\uFB01ne \u2460 \u212B \u00BD",                                       // ﬁ ① Å ½
      "Gru\u0308\u00DFe aus Ko\u0308ln",                                     // combining diaeresis
      "\uFF76\uFF80\uFF76\uFF85",                                            // halfwidth katakana
    };
    for (SentencePieceModel m : List.of(seqio, google, pegasus)) {
      for (String s : samples) {
        String nfkc = Normalizer.normalize(s, Normalizer.Form.NFKC).trim().replaceAll(" +", " ");
        assertEquals("\u2581" + nfkc.replace(" ", "\u2581"), m.normalize(s),
            m + " on " + s);
      }
    }
  }

  /**
   * The model's own table (ICU NFKC of 2017) against Java's NFKC (Unicode 13), one character at a
   * time between two letters: they may differ only on characters whose mapping changed between
   * Unicode versions or that compose with the neighbouring letter; allowed: 0.05% of 142k.
   */
  @Test
  void charsMapAgreesWithJavaNfkcOnNearlyEveryCodePoint() {
    int differ = 0;
    int total = 0;
    for (int cp = 0x21; cp < 0x30000; cp++) {
      if (Character.isSurrogate((char) cp) || !Character.isDefined(cp)) {
        continue;
      }
      String s = "a" + new String(Character.toChars(cp)) + "a";
      String nfkc = Normalizer.normalize(s, Normalizer.Form.NFKC).trim().replaceAll("\\s+", " ");
      total++;
      if (!("\u2581" + nfkc.replace(" ", "\u2581")).equals(google.normalize(s))) {
        differ++;
      }
    }
    assertTrue(total > 100_000, "code points checked: " + total);
    assertTrue(differ < total / 2000, differ + " of " + total + " differ");
  }

  @Test
  void nmtNfkcAlsoCleansControlAndZeroWidthCharacters() {
    // nmt_nfkc on top of NFKC: zero-width / line separators become spaces, controls vanish
    assertEquals("\u2581a\u2581b", seqio.normalize("a\u200Bb"));
    assertEquals("\u2581a\u2581b", seqio.normalize("a\u2028b"));
    assertEquals("\u2581ab", seqio.normalize("a\u007Fb"));
    // plain nfkc keeps them
    assertEquals("\u2581a\u200Bb", google.normalize("a\u200Bb"));
  }

  @Test
  void whitespaceHandling() {
    assertEquals("\u2581a\u2581b", seqio.normalize("  a \t  b  \n"));
    assertEquals("", seqio.normalize("   "));
    assertEquals(0, seqio.encode("").length);
    assertEquals("", seqio.decode(new int[0]));
  }

  @Test
  void byteFallbackRoundTripsNonAsciiText() {
    String[] sentences = {
      "Gr\u00FC\u00DFe aus K\u00F6ln \u2014 \u6771\u4EAC\u3067\u4F1A\u3044\u307E\u3057\u3087\u3046!",
      "\u0417\u0434\u0440\u0430\u0432\u0441\u0442\u0432\u0443\u0439, \u043C\u0438\u0440 \uD83D\uDE00",
      "caf\u00E9 na\u00EFve r\u00E9sum\u00E9 \u00A9 2020",
      "plain ascii, with punctuation: (a) [b] {c}.",
    };
    for (String s : sentences) {
      int[] ids = pegasus.encode(s);
      String expected = pegasus.normalize(s).replace("\u2581", " ").substring(1);
      assertEquals(expected, pegasus.decode(ids), s);
      for (int id : ids) {
        assertTrue(id != pegasus.unkId(), "byte fallback leaves no <unk> in " + s);
      }
    }
  }

  @Test
  void roundTripOnKnownCharacters() {
    for (String s : List.of("This is a test", "I saw a girl with a telescope.",
        "Hello world, hello again.")) {
      assertEquals(s, google.decode(google.encode(s)));
    }
  }

  @Test
  void badInputIsReportedClearly() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> seqio.decode(new int[] {3, 26}));
    assertTrue(e.getMessage().contains("token id 26"), e.getMessage());
    SentencePieceFormatException f = assertThrows(SentencePieceFormatException.class,
        () -> SentencePieceModel.parse(new byte[] {0x0a, 0x05, 0x01}, "broken.model"));
    assertTrue(f.getMessage().contains("broken.model"), f.getMessage());
  }

  @Test
  void loadsFromFixtureCopyPath() throws IOException {
    Path p = Fixtures.fixture("spm_seqio_test/sentencepiece.model");
    assertEquals(seqio.vocabSize(), SentencePieceModel.parse(Files.readAllBytes(p), "x").vocabSize());
  }
}
