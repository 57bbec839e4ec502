/**
 * The experiment drivers ({@code upcycle experiment vision|language}): each prepares its data from
 * Debian packages and names the model, job and the paper's recipe; the runs themselves are
 * {@link dev.upcycle.train.experiment.Experiment}'s.
 */
package dev.upcycle.tools.experiment;
