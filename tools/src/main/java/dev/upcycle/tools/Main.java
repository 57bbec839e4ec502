package dev.upcycle.tools;

import dev.upcycle.tools.cli.BenchCommand;
import dev.upcycle.tools.cli.CeilingBenchCommand;
import dev.upcycle.tools.cli.ClusterBenchCommand;
import dev.upcycle.tools.cli.ClusterCommand;
import dev.upcycle.tools.cli.ConvertBenchCommand;
import dev.upcycle.tools.cli.ConvertCommand;
import dev.upcycle.tools.cli.DataCommand;
import dev.upcycle.tools.cli.DevicesCommand;
import dev.upcycle.tools.cli.EvalCommand;
import dev.upcycle.tools.cli.ExperimentCommand;
import dev.upcycle.tools.cli.ExportCommand;
import dev.upcycle.tools.cli.PredictCommand;
import dev.upcycle.tools.cli.ServeCommand;
import dev.upcycle.tools.cli.ServerCommand;
import dev.upcycle.tools.cli.TrainBenchCommand;
import dev.upcycle.tools.cli.TrainCommand;
import dev.upcycle.tools.cli.InspectCommand;
import dev.upcycle.tools.cli.DemoCommand;
import dev.upcycle.tools.cli.ModelBenchCommand;
import dev.upcycle.tools.cli.ServeBenchCommand;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Entry point of the {@code upcycle} program.
 *
 * <p>Exit codes: 0 success (and {@code --help}/{@code --version}); 2 bad usage (unknown flag,
 * bad value, missing subcommand), reported as one {@code error:} line and a hint; 1 any error
 * raised by a command, reported as {@code error: <message>} with the stack trace only under
 * {@code --verbose} or {@code UPCYCLE_DEBUG=1}.
 */
@Command(
    name = "upcycle",
    mixinStandardHelpOptions = true,
    versionProvider = Main.VersionProvider.class,
    description = "Turn dense Transformer checkpoints into Mixture-of-Experts models (TensorFlow Java).",
    commandListHeading = "%nCommands:%n")
public final class Main {

  /** Top-level subcommands, in help order. New commands are registered here and only here. */
  public static final List<Class<?>> COMMANDS =
      List.of(DemoCommand.class, InspectCommand.class, DevicesCommand.class, ConvertCommand.class, DataCommand.class,
          TrainCommand.class, EvalCommand.class, ExportCommand.class, PredictCommand.class, ServeCommand.class,
          ExperimentCommand.class, BenchCommand.class, ServerCommand.class, ClusterCommand.class);

  /** Subcommands of {@code upcycle bench}, in help order. */
  public static final List<Class<?>> BENCHES =
      List.of(CeilingBenchCommand.class, ModelBenchCommand.class, ConvertBenchCommand.class, TrainBenchCommand.class,
          ServeBenchCommand.class, ClusterBenchCommand.class);

  /** Environment variable that turns on stack traces like {@code --verbose}. */
  public static final String DEBUG_ENV = "UPCYCLE_DEBUG";

  @Option(names = "--verbose", scope = ScopeType.INHERIT,
      description = "Print stack traces of errors (also: env UPCYCLE_DEBUG=1).")
  boolean verbose;

  /**
   * System property naming the file descriptor of the terminal's stderr when {@code bin/upcycle}
   * filters the native library's stderr (fd 2) of TensorFlow's log lines: the program's own stderr
   * is that descriptor, so it bypasses the filter.
   */
  public static final String STDERR_FD_PROPERTY = "upcycle.stderr.fd";

  public static void main(String[] args) {
    Charset cs = Charset.defaultCharset();
    adoptStderrFd(cs);
    PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, cs), true);
    PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, cs), true);
    int code = execute(args, out, err, System.getenv());
    out.flush();
    err.flush();
    System.exit(code);
  }

  /**
   * Makes {@link System#err} write to the descriptor in {@value #STDERR_FD_PROPERTY}; the
   * descriptor is shared, not reopened, so {@code >log 2>&1} keeps one file offset. Without the
   * property, or where the JVM does not allow it, System.err stays as it is.
   */
  private static void adoptStderrFd(Charset cs) {
    String fd = System.getProperty(STDERR_FD_PROPERTY);
    if (fd == null) {
      return;
    }
    try {
      java.io.FileDescriptor descriptor = new java.io.FileDescriptor();
      java.lang.reflect.Field field = java.io.FileDescriptor.class.getDeclaredField("fd");
      field.setAccessible(true); // bin/upcycle opens java.io for this
      field.setInt(descriptor, Integer.parseInt(fd));
      System.setErr(new java.io.PrintStream(new java.io.FileOutputStream(descriptor), true, cs));
    } catch (ReflectiveOperationException | RuntimeException e) {
      // keep System.err (fd 2): TensorFlow's lines are filtered there, ours pass through too
    }
  }

  /** Runs the program in-process and returns its exit code. */
  public static int execute(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env) {
    return commandLine(out, err, env).execute(args);
  }

  /** The fully wired command line (all of {@link #COMMANDS} and {@link #BENCHES}). */
  public static CommandLine commandLine(PrintWriter out, PrintWriter err, Map<String, String> env) {
    CommandLine cli = new CommandLine(new Main());
    for (Class<?> command : COMMANDS) {
      cli.addSubcommand(command);
    }
    CommandLine bench = cli.getSubcommands().get(BenchCommand.NAME);
    for (Class<?> command : BENCHES) {
      bench.addSubcommand(command);
    }
    boolean debugEnv = "1".equals(env.get(DEBUG_ENV)) || "true".equalsIgnoreCase(env.get(DEBUG_ENV));
    cli.setOut(out);
    cli.setErr(err);
    // the handlers write to `err` themselves: subcommands added later keep picocli's default streams
    cli.setParameterExceptionHandler(new UsageErrorHandler(err));
    cli.setExecutionStrategy(Main::refuseUnmatchedThenRun);
    cli.setExecutionExceptionHandler(new ErrorHandler(err, debugEnv));
    return cli;
  }

  /**
   * Runs the last command, but first refuses words picocli left unmatched because {@code --help}
   * was also given ({@code upcycle nosuch --help} would otherwise print the top-level help, exit 0).
   */
  private static int refuseUnmatchedThenRun(ParseResult parsed) {
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (!p.unmatched().isEmpty()) {
        CommandLine cmd = p.commandSpec().commandLine();
        String first = p.unmatched().get(0);
        if (!cmd.getSubcommands().isEmpty() && p.subcommand() == null && !first.startsWith("-")) {
          throw new UnmatchedArgumentException(cmd, "Unknown command: '" + first + "' (commands: "
              + String.join(", ", cmd.getSubcommands().keySet()) + ")");
        }
        throw new UnmatchedArgumentException(cmd, p.unmatched());
      }
    }
    return new CommandLine.RunLast().execute(parsed);
  }

  /** Bad usage: one error line, suggestions for a mistyped name, a hint; exit 2. */
  static final class UsageErrorHandler implements IParameterExceptionHandler {
    private final PrintWriter err;

    UsageErrorHandler(PrintWriter err) {
      this.err = err;
    }

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
      CommandLine cmd = ex.getCommandLine();
      err.println("error: " + ex.getMessage());
      UnmatchedArgumentException.printSuggestions(ex, err);
      err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
      err.flush();
      return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }
  }

  /** A command failed: {@code error: <message>}, stack trace when asked for; exit 1. */
  static final class ErrorHandler implements IExecutionExceptionHandler {
    private final PrintWriter err;
    private final boolean debugEnv;

    ErrorHandler(PrintWriter err, boolean debugEnv) {
      this.err = err;
      this.debugEnv = debugEnv;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) {
      String message = ex.getMessage() != null ? ex.getMessage() : ex.getClass().getName();
      err.println("error: " + message);
      if (debugEnv || verboseRequested(parsed)) {
        ex.printStackTrace(err);
      } else {
        err.println("(run with --verbose or " + DEBUG_ENV + "=1 for the stack trace)");
      }
      err.flush();
      return cmd.getCommandSpec().exitCodeOnExecutionException();
    }

    /** True when {@code --verbose} was given at any level ({@code parsed} is the top-level result). */
    private static boolean verboseRequested(ParseResult parsed) {
      for (ParseResult p = parsed; p != null; p = p.subcommand()) {
        if (p.hasMatchedOption("--verbose")) {
          return true;
        }
      }
      return false;
    }
  }

  /** {@code upcycle <project version>}, TensorFlow runtime and Java versions. */
  static final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {
        "upcycle " + Versions.project(),
        "TensorFlow " + Versions.tensorflow(),
        "Java " + System.getProperty("java.version")
      };
    }
  }
}
