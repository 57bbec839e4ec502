package dev.upcycle.ckpt.names;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NameMapTest {

  @TempDir Path tmp;

  @Test
  void firstFullMatchDecidesWithGroups() {
    NameMap m = NameMap.of(
        NameMap.Rule.drop("opt/.*"),
        NameMap.Rule.map("a/(\\d+)/(w|b)", "layers_$1/$2"),
        NameMap.Rule.map("a/.*", "other"));
    assertEquals(Optional.of("layers_12/w"), m.apply("a/12/w"));
    assertEquals(Optional.of("other"), m.apply("a/12/w/extra")); // rule 2 must match the whole name
    assertEquals(Optional.empty(), m.apply("opt/a/1/w"));
    assertEquals(NameMap.Kind.DROPPED, m.resolve("opt/a/1/w").kind());
    assertEquals(Optional.empty(), m.apply("xa/1/w")); // no implicit prefix match
    assertEquals(NameMap.Kind.UNMAPPED, m.resolve("xa/1/w").kind());
    assertNull(m.resolve("xa/1/w").rule());
  }

  @Test
  void checkReportsUnmappedAndDuplicates() {
    NameMap m = NameMap.of(
        NameMap.Rule.map("enc/(\\d+)/k", "encoder/layers_$1/kernel"),
        NameMap.Rule.map("shared/(a|b)", "embedding"),
        NameMap.Rule.drop("adam/.*"));
    NameCheckReport r = m.check(List.of("enc/1/k", "enc/2/k", "shared/a", "shared/b", "adam/x", "stray", "loose/end"));
    assertFalse(r.ok());
    assertEquals(List.of("stray", "loose/end"), r.unmapped());
    assertEquals(Map.of("embedding", List.of("shared/a", "shared/b")), r.duplicates());
    assertEquals(4, r.mappedCount());
    assertEquals(1, r.droppedCount());
    String text = r.format();
    assertTrue(text.contains("unmapped: stray") && text.contains("unmapped: loose/end"), text);
    assertTrue(text.contains("duplicate target embedding <- [shared/a, shared/b]"), text);
    assertTrue(m.check(List.of("enc/1/k", "adam/m")).ok());
  }

  @Test
  void loadsMappingFile() throws IOException {
    Path f = tmp.resolve("my.map");
    Files.writeString(f, String.join("\n",
        "# comment",
        "",
        "   # indented comment",
        "training/.*   =>   DROP",
        "model/x=>y/(\\d+) => layer_$1 ",
        "model/(.*) => $1"));
    NameMap m = NameMap.load(f);
    assertEquals(3, m.rules().size());
    assertTrue(m.rules().get(0).isDrop());
    assertEquals(Optional.of("layer_7"), m.apply("model/x=>y/7")); // split at the LAST '=>'
    assertEquals(Optional.of("a/b"), m.apply("model/a/b"));
    assertEquals(NameMap.Kind.DROPPED, m.resolve("training/foo/Adam").kind());
  }

  @Test
  void badMappingFileNamesFileAndLine() throws IOException {
    Path f = tmp.resolve("bad.map");
    Files.writeString(f, "a => b\nno arrow here\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NameMap.load(f));
    assertTrue(e.getMessage().contains(f + ":2"), e.getMessage());

    Files.writeString(f, "a => b\n# ok\n(unclosed => x\n");
    e = assertThrows(IllegalArgumentException.class, () -> NameMap.load(f));
    assertTrue(e.getMessage().contains(f + ":3") && e.getMessage().contains("(unclosed"), e.getMessage());

    Files.writeString(f, "a/(\\d+) => layers_$2\n");
    e = assertThrows(IllegalArgumentException.class, () -> NameMap.load(f));
    assertTrue(e.getMessage().contains(f + ":1") && e.getMessage().contains("$2"), e.getMessage());
  }

  @Test
  void concatKeepsOrder() {
    NameMap a = NameMap.of(NameMap.Rule.map("x", "first"));
    NameMap b = NameMap.of(NameMap.Rule.map("x", "second"), NameMap.Rule.map("y", "why"));
    NameMap c = a.concat(b);
    assertEquals(Optional.of("first"), c.apply("x"));
    assertEquals(Optional.of("why"), c.apply("y"));
  }
}
