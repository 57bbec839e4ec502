package dev.upcycle.savedmodels.rest;

import java.io.IOException;
import java.util.List;

/** The requests of {@link TfServingExamplesTest}'s table for tests in other packages: {model fixture, body} each. */
public final class ExampleRequests {

  private ExampleRequests() {}

  public static List<String[]> all() throws IOException {
    return TfServingExamplesTest.examples().stream().map(e -> new String[] {e.model(), e.body()}).toList();
  }
}
