package dev.upcycle.savedmodels.rest.batching;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.savedmodels.server.PredictHandler;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What TF Serving's model server flags {@code --enable_batching} and
 * {@code --batching_parameters_file} select ({@code model_servers/server.cc}): without
 * {@code --enable_batching}, requests run one by one ({@link PredictHandler#DIRECT}) and a
 * parameters file is refused at startup, as TF Serving refuses it; with it, a
 * {@link BatchingPredictor} with the file's parameters, or {@link BatchingParameters#defaults()}
 * without a file.
 *
 * @param enabled {@value #ENABLE_FLAG}
 * @param parametersFile {@value #PARAMETERS_FILE_FLAG}, when given
 */
public record BatchingFlags(boolean enabled, Optional<Path> parametersFile) {

  public static final String ENABLE_FLAG = "--enable_batching";
  public static final String PARAMETERS_FILE_FLAG = "--batching_parameters_file";

  /** No batching. */
  public static final BatchingFlags OFF = new BatchingFlags(false, Optional.empty());
  /** {@value #ENABLE_FLAG} with TF Serving's default parameters. */
  public static final BatchingFlags DEFAULTS = new BatchingFlags(true, Optional.empty());

  public BatchingFlags {
    checkNotNull(parametersFile, "parametersFile");
    // TF Serving's words (InvalidArgument at startup), with our flag spelling after them
    checkArgument(enabled || parametersFile.isEmpty(), "server_options.batching_parameters_file is set without"
        + " setting server_options.enable_batching to true (%s %s needs %s)", PARAMETERS_FILE_FLAG,
        parametersFile.orElse(null), ENABLE_FLAG);
  }

  /**
   * The parameters batching runs with; empty when it is off.
   *
   * @throws FileNotFoundException naming {@value #PARAMETERS_FILE_FLAG} when the file is missing
   * @throws IllegalArgumentException naming the file when it is not a valid parameters file
   */
  public Optional<BatchingParameters> parameters() throws IOException {
    if (!enabled) {
      return Optional.empty();
    }
    if (parametersFile.isPresent() && !Files.isRegularFile(parametersFile.get())) {
      throw new FileNotFoundException(PARAMETERS_FILE_FLAG + " " + parametersFile.get() + ": no such file (expected a "
          + BatchingParameters.MESSAGE + " in protobuf text format)");
    }
    return Optional.of(parametersFile.isPresent() ? BatchingParameters.read(parametersFile.get())
        : BatchingParameters.defaults());
  }

  /**
   * The handler for a model server: {@link PredictHandler#DIRECT} when off, else a started
   * {@link BatchingPredictor} (the server closes it).
   *
   * @throws IOException when the parameters file is missing or cannot be read (parse errors name it)
   */
  public PredictHandler handler() throws IOException {
    Optional<BatchingParameters> p = parameters();
    return p.isPresent() ? BatchingPredictor.start(p.get()) : PredictHandler.DIRECT;
  }
}
