package dev.upcycle.model.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The repository's fixtures are the files its manifest lists, byte for byte ({@code SHA256SUMS}). */
class FixtureDigestsTest {

  @Test
  void everyFixtureFileMatchesItsListedDigestAndNoneIsUnlisted() throws IOException, NoSuchAlgorithmException {
    Path root = Fixtures.testdataDir();
    TreeMap<String, String> listed = new TreeMap<>();
    for (String line : Files.readAllLines(root.resolve("SHA256SUMS"), StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      String[] parts = line.split("\\s+", 2);
      listed.put(parts[1].replaceFirst("^\\./", ""), parts[0]);
    }
    assertTrue(listed.size() > 20, "SHA256SUMS lists " + listed.size() + " files");
    for (var e : listed.entrySet()) {
      Path file = root.resolve(e.getKey());
      assertTrue(Files.isRegularFile(file), "listed fixture missing: " + file);
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
      assertEquals(e.getValue(), HexFormat.of().formatHex(digest), "digest of " + file);
    }
    Set<String> present;
    try (Stream<Path> walk = Files.walk(root)) {
      present = walk.filter(Files::isRegularFile)
          .map(p -> root.relativize(p).toString())
          .filter(p -> !List.of("MANIFEST.md", "SHA256SUMS").contains(p) && !p.startsWith("_listings/"))
          .collect(Collectors.toCollection(TreeSet::new));
    }
    assertEquals(listed.keySet(), present, "files under testdata/ and the lines of SHA256SUMS");
  }
}
