package dev.upcycle.ckpt.names;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * An ordered list of rules that rename checkpoint variables: the first rule whose regex matches the
 * whole source name ({@link Matcher#matches()}) decides. A rule either maps to a target built
 * with {@code $1}, {@code $2}, ... from the regex groups, or drops the variable ({@code DROP}).
 * A name no rule matches is unmapped. Immutable.
 *
 * <p>Mapping files (see {@link #load}) hold one rule per line, {@code REGEX => TARGET} or {@code
 * REGEX => DROP}; blank lines and lines starting with {@code #} are ignored.
 */
public final class NameMap {

  /** The target word that drops a variable. */
  public static final String DROP = "DROP";
  /** The separator between regex and target in a mapping file line. */
  public static final String ARROW = "=>";

  private static final Pattern GROUP_REF = Pattern.compile("\\$(\\d)");

  /** One rule: {@code target} is null for DROP. */
  public record Rule(Pattern pattern, String target) {

    public Rule {
      checkNotNull(pattern, "pattern");
      if (target != null) {
        checkArgument(!target.isEmpty(), "rule %s: empty target", pattern);
        Matcher m = GROUP_REF.matcher(target);
        int groups = pattern.matcher("").groupCount();
        while (m.find()) {
          int g = m.group(1).charAt(0) - '0';
          checkArgument(g <= groups, "rule %s => %s: $%s but the regex has only %s groups",
              pattern, target, g, groups);
        }
      }
    }

    /** A rule mapping names that fully match {@code regex} to {@code target} ({@code $n} = group n). */
    public static Rule map(String regex, String target) {
      checkNotNull(target, "target of %s", regex);
      return new Rule(compile(regex), target);
    }

    /** A rule dropping names that fully match {@code regex}. */
    public static Rule drop(String regex) {
      return new Rule(compile(regex), null);
    }

    public boolean isDrop() {
      return target == null;
    }

    @Override
    public String toString() {
      return pattern.pattern() + " " + ARROW + " " + (target == null ? DROP : target);
    }

    private static Pattern compile(String regex) {
      checkNotNull(regex, "regex");
      try {
        return Pattern.compile(regex);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException("bad regex '" + regex + "': " + e.getDescription(), e);
      }
    }
  }

  /** What a name map does with one source name. */
  public enum Kind { MAPPED, DROPPED, UNMAPPED }

  /** The result for one source name: {@code target} is set only for MAPPED, {@code rule} unless UNMAPPED. */
  public record Outcome(String source, Kind kind, String target, Rule rule) {}

  private final List<Rule> rules;

  private NameMap(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  public static NameMap of(List<Rule> rules) {
    checkNotNull(rules, "rules");
    return new NameMap(rules);
  }

  public static NameMap of(Rule... rules) {
    return new NameMap(Arrays.asList(rules));
  }

  /**
   * Reads a mapping file: one rule per line, {@code REGEX => TARGET} or {@code REGEX => DROP}
   * (split at the last {@code =>}; spaces around both parts are trimmed), {@code #} starts a
   * comment line. A bad line gives an {@link IllegalArgumentException} naming file and line.
   */
  public static NameMap load(Path file) throws IOException {
    checkNotNull(file, "file");
    return parse(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString());
  }

  /** A mapping file shipped as a class-path resource of this package (e.g. {@code t2t-transformer.map}). */
  public static NameMap resource(String name) throws IOException {
    checkNotNull(name, "name");
    try (InputStream in = NameMap.class.getResourceAsStream(name)) {
      checkArgument(in != null, "no mapping resource %s beside %s", name, NameMap.class.getName());
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return parse(text.lines().toList(), "resource " + name);
    }
  }

  /** Parses mapping-file lines; {@code origin} names the file in error messages. */
  public static NameMap parse(List<String> lines, String origin) {
    List<Rule> rules = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int arrow = line.lastIndexOf(ARROW);
      if (arrow < 0) {
        throw new IllegalArgumentException(origin + ":" + (i + 1) + ": expected 'REGEX => TARGET' or"
            + " 'REGEX => DROP', got '" + line + "'");
      }
      String regex = line.substring(0, arrow).strip();
      String target = line.substring(arrow + ARROW.length()).strip();
      if (regex.isEmpty() || target.isEmpty()) {
        throw new IllegalArgumentException(origin + ":" + (i + 1) + ": empty regex or target in '"
            + line + "'");
      }
      try {
        rules.add(target.equals(DROP) ? Rule.drop(regex) : Rule.map(regex, target));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(origin + ":" + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    return new NameMap(rules);
  }

  public List<Rule> rules() {
    return rules;
  }

  /** This map's rules followed by {@code other}'s (this map wins where both match). */
  public NameMap concat(NameMap other) {
    List<Rule> all = new ArrayList<>(rules);
    all.addAll(other.rules);
    return new NameMap(all);
  }

  /** The mapped name; empty when the name is dropped or no rule matches (see {@link #resolve}). */
  public Optional<String> apply(String source) {
    return Optional.ofNullable(resolve(source).target());
  }

  /** What the first matching rule does with {@code source}. */
  public Outcome resolve(String source) {
    checkNotNull(source, "source");
    for (Rule r : rules) {
      Matcher m = r.pattern().matcher(source);
      if (m.matches()) {
        if (r.isDrop()) {
          return new Outcome(source, Kind.DROPPED, null, r);
        }
        StringBuilder sb = new StringBuilder();
        m.appendReplacement(sb, r.target());
        m.appendTail(sb);
        return new Outcome(source, Kind.MAPPED, sb.toString(), r);
      }
    }
    return new Outcome(source, Kind.UNMAPPED, null, null);
  }

  /** Resolves every name and reports unmapped names and targets reached from two or more sources. */
  public NameCheckReport check(List<String> sources) {
    checkNotNull(sources, "sources");
    List<Outcome> outcomes = new ArrayList<>();
    List<String> unmapped = new ArrayList<>();
    Map<String, List<String>> byTarget = new LinkedHashMap<>();
    for (String s : sources) {
      Outcome o = resolve(s);
      outcomes.add(o);
      if (o.kind() == Kind.UNMAPPED) {
        unmapped.add(s);
      } else if (o.kind() == Kind.MAPPED) {
        byTarget.computeIfAbsent(o.target(), k -> new ArrayList<>()).add(s);
      }
    }
    Map<String, List<String>> duplicates = new LinkedHashMap<>();
    byTarget.forEach((t, s) -> {
      if (s.size() > 1) {
        duplicates.put(t, s);
      }
    });
    return new NameCheckReport(outcomes, unmapped, duplicates);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (Rule r : rules) {
      sb.append(r).append('\n');
    }
    return sb.toString();
  }
}
