/**
 * Name maps between checkpoint spellings and the canonical T5X / Flaxformer names (DESIGN.md §3),
 * kept as data: ordered regex rules, not code paths.
 *
 * <ul>
 *   <li>{@link dev.upcycle.ckpt.names.NameMap}: ordered rules, each {@code REGEX => TARGET} or
 *       {@code REGEX => DROP}; the first rule whose regex matches the <em>whole</em> name
 *       ({@code java.util.regex}, {@code Matcher.matches}) decides; {@code $1}, {@code $2} in the
 *       target are regex groups. {@link dev.upcycle.ckpt.names.NameMap#check} reports names no
 *       rule matches and targets reached by two or more sources.
 *   <li>{@link dev.upcycle.ckpt.names.MeshTfNames}: Mesh-TensorFlow T5 v1.1 (with Adafactor slots).
 *   <li>{@link dev.upcycle.ckpt.names.T5xNames}: T5X reader names ({@code target/...}) ↔ canonical.
 *   <li>{@link dev.upcycle.ckpt.names.Tf2ObjectGraphNames}: TF2 object-graph checkpoints.
 *   <li>Resource {@code t2t-transformer.map} ({@code NameMap.resource("t2t-transformer.map")}):
 *       Tensor2Tensor {@code transformer}.
 * </ul>
 *
 * <p>Mapping file format ({@link dev.upcycle.ckpt.names.NameMap#load}), also in
 * {@code docs/mapping-files.md}:
 * <pre>
 * # a comment line (the first non-blank character is '#')
 * transformer/body/encoder/layer_(\d+)/ffn/conv1/kernel => encoder/layers_$1/mlp/wi/kernel
 * training/.* => DROP
 * </pre>
 * One rule per line; the line is split at its last {@code =>}; spaces around regex and target
 * are trimmed; blank lines are ignored; a target of exactly {@code DROP} drops the variable.
 */
package dev.upcycle.ckpt.names;
