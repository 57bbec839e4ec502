package dev.upcycle.e2e;

import dev.upcycle.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/** Runs the {@code upcycle} program in-process and captures its output and exit code. */
record Cli(int code, String out, String err) {

  static Cli run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true), Map.of());
    return new Cli(code, out.toString(), err.toString());
  }
}
