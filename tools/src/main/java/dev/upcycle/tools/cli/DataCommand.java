package dev.upcycle.tools.cli;

import picocli.CommandLine.Command;

/** {@code upcycle data}: parent of the dataset preparation commands. */
@Command(name = DataCommand.NAME, description = "Prepare training data as TFRecords of tf.train.Example.",
    subcommands = {TokenizeCommand.class, ImagesCommand.class}, mixinStandardHelpOptions = true)
public final class DataCommand {
  public static final String NAME = "data";
}
