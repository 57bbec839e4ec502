package dev.upcycle.savedmodels.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.upcycle.savedmodels.rest.RestError;
import dev.upcycle.savedmodels.rest.TfCode;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Paths read as TF Serving's {@code ParseModelInfo} reads them ({@code http_rest_api_util.cc}). */
class RestRouteTest {

  @Test
  void predictionAndStatusPaths() {
    assertEquals(new RestRoute("predict", "m", OptionalLong.empty(), Optional.empty()),
        RestRoute.parse("POST", "/v1/models/m:predict"));
    assertEquals(new RestRoute("predict", "m", OptionalLong.of(7), Optional.empty()),
        RestRoute.parse("POST", "/v1/models/m/versions/007:predict"));
    assertEquals(new RestRoute("regress", "m", OptionalLong.empty(), Optional.of("canary")),
        RestRoute.parse("POST", "/v1/models/m/labels/canary:regress"));
    assertEquals(new RestRoute("PREDICT", "M", OptionalLong.empty(), Optional.empty()),
        RestRoute.parse("POST", "/V1/Models/M:PREDICT"), "matched case-insensitively, kept as written");
    assertEquals(new RestRoute("status", "m", OptionalLong.empty(), Optional.empty()),
        RestRoute.parse("GET", "/v1/models/m"));
    assertEquals(new RestRoute("status", "", OptionalLong.empty(), Optional.empty()),
        RestRoute.parse("GET", "/v1/models"));
    assertEquals(new RestRoute("metadata", "m", OptionalLong.of(3), Optional.empty()),
        RestRoute.parse("GET", "/v1/models/m/versions/3/metadata"));
    assertEquals(new RestRoute("status", "m", OptionalLong.empty(), Optional.empty()),
        RestRoute.parse("GET", "/v1/models/m/METADATA"), "TF Serving compares the subresource case-sensitively");
  }

  @Test
  void namesArePercentDecodedAsCurlDoes() {
    assertEquals("a b", RestRoute.decode("a%20b"));
    assertEquals("a+b", RestRoute.decode("a+b"));
    assertEquals("caf\u00e9", RestRoute.decode("caf%C3%A9"));
    assertEquals("100%", RestRoute.decode("100%"));
    assertEquals("%zz", RestRoute.decode("%zz"));
    assertEquals("m/x", RestRoute.parse("POST", "/v1/models/m%2Fx:predict").model());
  }

  @Test
  void refusedWithTfServingsMessages() {
    RestError e = assertThrows(RestError.class, () -> RestRoute.parse("POST", "/v1/models/m/versions/x:predict"));
    assertEquals(TfCode.INVALID_ARGUMENT, e.code());
    assertEquals("Malformed request: POST /v1/models/m/versions/x:predict", e.getMessage());
    assertEquals("Malformed request: HEAD /v1/models/m",
        assertThrows(RestError.class, () -> RestRoute.parse("HEAD", "/v1/models/m")).getMessage());
    assertEquals("Failed to convert version: 9223372036854775808 to numeric.", assertThrows(RestError.class,
        () -> RestRoute.parse("GET", "/v1/models/m/versions/9223372036854775808")).getMessage());
  }
}
