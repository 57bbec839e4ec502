package dev.upcycle.savedmodels.server;

import dev.upcycle.savedmodels.rest.RestError;
import dev.upcycle.savedmodels.rest.TfCode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A REST request's method and path read as TF Serving's {@code ParseModelInfo} reads them
 * ({@code model_servers/http_rest_api_util.cc}, with its two regular expressions, matched
 * case-insensitively against the whole path): {@code POST /v1/models/NAME[/versions/N|/labels/L]:(classify|regress|predict)}
 * and {@code GET /v1/models[/NAME][/versions/N|/labels/L][/metadata]}. Anything else under
 * {@code /v1/} is {@code Malformed request: METHOD PATH} (INVALID_ARGUMENT), as TF Serving answers.
 *
 * @param api {@code predict}, {@code classify}, {@code regress}, {@code status} or {@code metadata}
 * @param model the model name, percent-decoded; empty for {@code GET /v1/models}
 * @param version the version asked for, if any
 * @param label the version label asked for, if any
 */
record RestRoute(String api, String model, OptionalLong version, Optional<String> label) {

  /** The paths TF Serving's HTTP server hands to its REST handler; others get a bare 404. */
  static final Pattern HANDLED = Pattern.compile("(?i)/v1/.*");

  private static final Pattern PREDICTION = Pattern.compile(
      "(?i)/v1/models/([^/:]+)(?:(?:/versions/(\\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)");
  private static final Pattern STATUS = Pattern.compile(
      "(?i)/v1/models(?:/([^/:]+))?(?:(?:/versions/(\\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?");

  /**
   * The route of {@code method} on raw (still percent-encoded) {@code path}.
   *
   * @throws RestError INVALID_ARGUMENT with TF Serving's message for a path or method it refuses
   */
  static RestRoute parse(String method, String path) {
    Matcher m = null;
    if (method.equals("POST")) {
      m = PREDICTION.matcher(path);
    } else if (method.equals("GET")) {
      m = STATUS.matcher(path);
    }
    boolean matched = m != null && m.matches();
    if (!matched) {
      throw new RestError(TfCode.INVALID_ARGUMENT, "Malformed request: " + method + " " + path);
    }
    String model = m.group(1) == null ? "" : decode(m.group(1));
    OptionalLong version = OptionalLong.empty();
    if (m.group(2) != null) {
      try {
        version = OptionalLong.of(Long.parseLong(m.group(2)));
      } catch (NumberFormatException e) {
        throw new RestError(TfCode.INVALID_ARGUMENT, "Failed to convert version: " + m.group(2) + " to numeric.");
      }
    }
    Optional<String> label = Optional.ofNullable(m.group(3)).map(RestRoute::decode);
    String api;
    if (method.equals("POST")) {
      api = m.group(4); // as matched: TF Serving compares it with "predict" etc. case-sensitively
    } else {
      api = m.group(4) != null && m.group(4).equals("metadata") ? "metadata" : "status";
    }
    return new RestRoute(api, model, version, label);
  }

  /** {@code %XX} escapes decoded to bytes, then UTF-8, as {@code curl_easy_unescape}; '+' stays '+'. */
  static String decode(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] in = s.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '%' && i + 2 < in.length && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
        out.write(hex(in[i + 1]) * 16 + hex(in[i + 2]));
        i += 2;
      } else {
        out.write(in[i]);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static int hex(byte b) {
    return Character.digit((char) b, 16);
  }
}
