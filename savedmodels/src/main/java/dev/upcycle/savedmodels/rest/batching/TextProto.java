package dev.upcycle.savedmodels.rest.batching;

import static com.google.common.base.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A small strict reader of protobuf's text format ({@code TextFormat::Parse}) for flat messages
 * whose fields are scalars, repeated scalars and the {@code google.protobuf.*Value} wrappers —
 * enough for TF Serving's {@code BatchingParameters} without the message classes, which TF Java
 * does not ship. Accepted: {@code name: value}, {@code name { value: v }} (also {@code name: {…}}
 * and {@code <…>}), repeated fields given once per value or as {@code name: [v, …]}, {@code #}
 * comments, {@code ,} or {@code ;} after a field; integers in decimal, hex ({@code 0x…}) and octal
 * ({@code 0…}); booleans {@code true}/{@code false}/{@code True}/{@code False}/{@code t}/{@code f}/
 * {@code 1}/{@code 0}; strings in single or double quotes with C escapes. Every other input — an
 * unknown field, a non-repeated field given twice, a value of the wrong type, an integer out of
 * range — is an error naming the file, line and column.
 */
final class TextProto {

  /** The type of a field. */
  enum Type {
    /** {@code google.protobuf.Int64Value}: {@code name { value: 12 }}. */
    INT64_VALUE,
    /** {@code google.protobuf.BoolValue}. */
    BOOL_VALUE,
    /** {@code google.protobuf.StringValue}. */
    STRING_VALUE,
    /** A plain {@code bool}. */
    BOOL,
    /** {@code repeated int64}. */
    REPEATED_INT64
  }

  private final String text;
  private final String source;
  private final String message;
  private final Map<String, Type> fields;
  private int pos;

  private TextProto(String text, String source, String message, Map<String, Type> fields) {
    this.text = text;
    this.source = source;
    this.message = message;
    this.fields = fields;
  }

  /**
   * The fields set in {@code text}: a {@link Long}, {@link Boolean} or {@link String} per set field
   * (a wrapper given as {@code {}} holds its default), a {@code List<Long>} for a repeated one.
   *
   * @param source names the text in errors (the file)
   * @param message the message's full name, for errors ({@code tensorflow.serving.BatchingParameters})
   * @param fields the message's fields by name
   * @throws IllegalArgumentException naming {@code source}, line and column for text that is not such a message
   */
  static Map<String, Object> parse(String text, String source, String message, Map<String, Type> fields) {
    return new TextProto(checkNotNull(text, "text"), checkNotNull(source, "source"), message, fields).message();
  }

  private Map<String, Object> message() {
    Map<String, Object> values = new LinkedHashMap<>();
    for (skipSpace(); pos < text.length(); skipSpace()) {
      int at = pos;
      String name = identifier("a field name");
      Type type = fields.get(name);
      if (type == null) {
        throw error(at, "unknown field \"" + name + "\" in " + message + " (its fields: "
            + String.join(", ", new TreeSet<>(fields.keySet())) + ")");
      }
      if (type != Type.REPEATED_INT64 && values.containsKey(name)) {
        throw error(at, "non-repeated field \"" + name + "\" is specified multiple times");
      }
      switch (type) {
        case INT64_VALUE, BOOL_VALUE, STRING_VALUE -> values.put(name, wrapper(name, type));
        case BOOL -> {
          expect(':');
          values.put(name, bool());
        }
        case REPEATED_INT64 -> {
          expect(':');
          @SuppressWarnings("unchecked")
          List<Long> list = (List<Long>) values.computeIfAbsent(name, k -> new ArrayList<Long>());
          skipSpace();
          if (peek() == '[') {
            pos++;
            skipSpace();
            if (peek() != ']') {
              do {
                list.add(int64());
                skipSpace();
              } while (consume(','));
            }
            expect(']');
          } else {
            list.add(int64());
          }
        }
      }
      skipSpace();
      if (!consume(',')) {
        consume(';');
      }
    }
    return values;
  }

  /** {@code [:] { value: v }} or {@code [:] < value: v >}; {@code {}} holds the default. */
  private Object wrapper(String name, Type type) {
    skipSpace();
    consume(':');
    skipSpace();
    char open = peek();
    if (open != '{' && open != '<') {
      throw error(pos, "field \"" + name + "\" is a google.protobuf." + wrapperName(type)
          + ": expected \"{ value: … }\", found " + found(pos));
    }
    pos++;
    char close = open == '{' ? '}' : '>';
    Object value = switch (type) {
      case INT64_VALUE -> 0L;
      case BOOL_VALUE -> false;
      default -> "";
    };
    boolean seen = false;
    for (skipSpace(); peek() != close; skipSpace()) {
      if (pos >= text.length()) {
        throw error(pos, "field \"" + name + "\" is not closed with '" + close + "'");
      }
      int at = pos;
      String inner = identifier("\"value\"");
      if (!inner.equals("value")) {
        throw error(at, "unknown field \"" + inner + "\" in google.protobuf." + wrapperName(type) + " (field \"" + name
            + "\"; its one field: value)");
      }
      if (seen) {
        throw error(at, "non-repeated field \"value\" is specified multiple times (field \"" + name + "\")");
      }
      seen = true;
      expect(':');
      value = switch (type) {
        case INT64_VALUE -> int64();
        case BOOL_VALUE -> bool();
        default -> string();
      };
      skipSpace();
      if (!consume(',')) {
        consume(';');
      }
    }
    pos++;
    return value;
  }

  private static String wrapperName(Type type) {
    return switch (type) {
      case INT64_VALUE -> "Int64Value";
      case BOOL_VALUE -> "BoolValue";
      default -> "StringValue";
    };
  }

  private String identifier(String what) {
    skipSpace();
    int start = pos;
    while (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
      pos++;
    }
    if (pos == start || Character.isDigit(text.charAt(start))) {
      throw error(start, "expected " + what + ", found " + found(start));
    }
    return text.substring(start, pos);
  }

  /** A token of letters, digits, '-', '+', '.' and '_' (a number or a literal). */
  private String token(String what) {
    skipSpace();
    int start = pos;
    while (pos < text.length()
        && (Character.isLetterOrDigit(text.charAt(pos)) || "-+._".indexOf(text.charAt(pos)) >= 0)) {
      pos++;
    }
    if (pos == start) {
      throw error(start, "expected " + what + ", found " + found(start));
    }
    return text.substring(start, pos);
  }

  private long int64() {
    int at = pos + leadingSpace();
    String t = token("an integer");
    boolean negative = t.startsWith("-");
    String digits = negative ? t.substring(1) : t;
    int radix = 10;
    if (digits.startsWith("0x") || digits.startsWith("0X")) {
      radix = 16;
      digits = digits.substring(2);
    } else if (digits.length() > 1 && digits.startsWith("0")) {
      radix = 8;
      digits = digits.substring(1);
    }
    try {
      if (digits.isEmpty() || !Character.isLetterOrDigit(digits.charAt(0))) {
        throw new NumberFormatException();
      }
      return Long.parseLong((negative ? "-" : "") + digits, radix);
    } catch (NumberFormatException e) {
      throw error(at, "expected an int64, found \"" + t + "\"");
    }
  }

  private boolean bool() {
    int at = pos + leadingSpace();
    String t = token("a bool");
    return switch (t) {
      case "true", "True", "t", "1" -> true;
      case "false", "False", "f", "0" -> false;
      default -> throw error(at, "expected a bool (true or false), found \"" + t + "\"");
    };
  }

  private String string() {
    skipSpace();
    char quote = peek();
    if (quote != '"' && quote != '\'') {
      throw error(pos, "expected a quoted string, found " + found(pos));
    }
    int start = pos++;
    StringBuilder s = new StringBuilder();
    while (pos < text.length() && text.charAt(pos) != quote) {
      char c = text.charAt(pos++);
      if (c == '\n') {
        break;
      }
      if (c == '\\' && pos < text.length()) {
        char e = text.charAt(pos++);
        s.append(switch (e) {
          case 'n' -> '\n';
          case 't' -> '\t';
          case 'r' -> '\r';
          case '\\', '\'', '"' -> e;
          default -> throw error(pos - 2, "unsupported escape \\" + e + " in a string");
        });
      } else {
        s.append(c);
      }
    }
    if (pos >= text.length() || text.charAt(pos) != quote) {
      throw error(start, "string not closed");
    }
    pos++;
    return s.toString();
  }

  private void expect(char c) {
    skipSpace();
    if (!consume(c)) {
      throw error(pos, "expected '" + c + "', found " + found(pos));
    }
  }

  private boolean consume(char c) {
    if (pos < text.length() && text.charAt(pos) == c) {
      pos++;
      return true;
    }
    return false;
  }

  private char peek() {
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  private int leadingSpace() {
    int save = pos;
    skipSpace();
    int n = pos - save;
    pos = save;
    return n;
  }

  /** Skips whitespace and {@code #} comments. */
  private void skipSpace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c == '#') {
        while (pos < text.length() && text.charAt(pos) != '\n') {
          pos++;
        }
      } else if (Character.isWhitespace(c)) {
        pos++;
      } else {
        return;
      }
    }
  }

  private String found(int at) {
    if (at >= text.length()) {
      return "the end of the file";
    }
    int end = at + 1;
    while (end < text.length() && end < at + 20 && !Character.isWhitespace(text.charAt(end))) {
      end++;
    }
    return "\"" + text.substring(at, end) + "\"";
  }

  private IllegalArgumentException error(int at, String what) {
    int line = 1;
    int column = 1;
    for (int i = 0; i < Math.min(at, text.length()); i++) {
      if (text.charAt(i) == '\n') {
        line++;
        column = 1;
      } else {
        column++;
      }
    }
    return new IllegalArgumentException(source + ":" + line + ":" + column + ": " + what);
  }
}
