package dev.upcycle.train.distributed;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tensorflow.proto.ClusterDef;
import org.tensorflow.proto.JobDef;
import org.tensorflow.proto.ServerDef;

/**
 * A cluster and this process's task, as TensorFlow's {@code TF_CONFIG} describes them:
 * <pre>{"cluster": {"chief": ["h0:2222"], "worker": ["h1:2222", "h2:2222"], "ps": ["h3:2222"]},
 *  "task": {"type": "worker", "index": 1}}</pre>
 * Rules (TensorFlow's): task types are {@code chief}, {@code worker}, {@code ps} (an
 * {@code evaluator} is not part of the cluster and is refused here); at most one chief; when there is
 * no chief, worker 0 acts as chief (as {@code MultiWorkerMirroredStrategy} does). Every address is
 * {@code host:port} with a port in 1..65535 and appears once in the cluster. Validation happens on
 * parsing, before any graph is built; every error names the field.
 *
 * @param jobs job name → task addresses in index order ({@code chief}, {@code worker}, {@code ps})
 * @param task this process's task
 */
public record ClusterSpec(ImmutableMap<String, ImmutableList<String>> jobs, Task task) {

  public static final String CHIEF = "chief";
  public static final String WORKER = "worker";
  public static final String PS = "ps";
  /** The environment variable TensorFlow reads the cluster from. */
  public static final String ENV = "TF_CONFIG";

  private static final List<String> JOBS = List.of(CHIEF, WORKER, PS);
  private static final Pattern ADDRESS = Pattern.compile("([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\\[[0-9a-fA-F:]+\\]):(\\d{1,5})");
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** One task of the cluster. */
  public record Task(String type, int index) {
    public Task {
      checkNotNull(type, "task.type");
      checkArgument(index >= 0, "task.index must be >= 0, got %s", index);
    }

    /** TensorFlow's device prefix of this task: {@code /job:worker/replica:0/task:1}. */
    public String devicePrefix() {
      return "/job:" + type + "/replica:0/task:" + index;
    }

    @Override
    public String toString() {
      return type + ":" + index;
    }
  }

  public ClusterSpec {
    checkNotNull(jobs, "cluster");
    checkNotNull(task, "task");
  }

  /**
   * Parses and validates {@code TF_CONFIG} JSON.
   *
   * @param source where the text came from, for error messages (a file or "TF_CONFIG")
   */
  public static ClusterSpec parse(String json, String source) {
    checkNotNull(json, "json");
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
    }
    checkArgument(root != null && root.isObject(), "%s: expected a JSON object with 'cluster' and 'task'", source);
    JsonNode cluster = root.get("cluster");
    checkArgument(cluster != null && cluster.isObject() && cluster.size() > 0,
        "%s: 'cluster' must be an object of job name → address list (chief, worker, ps)", source);
    Map<String, ImmutableList<String>> jobs = new LinkedHashMap<>();
    Map<String, String> seen = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = cluster.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> job = it.next();
      String name = job.getKey();
      checkArgument(JOBS.contains(name), "%s: cluster.%s: unknown job (expected one of %s; an evaluator is not part"
          + " of the cluster)", source, name, JOBS);
      checkArgument(job.getValue().isArray() && job.getValue().size() > 0,
          "%s: cluster.%s must be a non-empty list of \"host:port\" strings", source, name);
      ImmutableList.Builder<String> addresses = ImmutableList.builder();
      for (int i = 0; i < job.getValue().size(); i++) {
        JsonNode a = job.getValue().get(i);
        String field = "cluster." + name + "[" + i + "]";
        checkArgument(a.isTextual(), "%s: %s must be a \"host:port\" string, got %s", source, field, a);
        String address = a.asText();
        port(address, source + ": " + field);
        String before = seen.putIfAbsent(address, field);
        checkArgument(before == null, "%s: %s: address %s is also %s (each task needs its own address)", source,
            field, address, before);
        addresses.add(address);
      }
      jobs.put(name, addresses.build());
    }
    checkArgument(!jobs.containsKey(CHIEF) || jobs.get(CHIEF).size() == 1,
        "%s: cluster.chief must list exactly one address, got %s", source, jobs.get(CHIEF));
    checkArgument(jobs.containsKey(CHIEF) || jobs.containsKey(WORKER),
        "%s: the cluster has no chief: list cluster.chief, or cluster.worker (worker 0 then acts as chief)", source);
    JsonNode task = root.get("task");
    checkArgument(task != null && task.isObject(), "%s: 'task' must be an object {\"type\": ..., \"index\": ...}",
        source);
    JsonNode type = task.get("type");
    checkArgument(type != null && type.isTextual(), "%s: task.type must be a string (one of %s)", source,
        jobs.keySet());
    checkArgument(jobs.containsKey(type.asText()), "%s: task.type '%s' is not a job of the cluster (jobs: %s)", source,
        type.asText(), jobs.keySet());
    JsonNode index = task.get("index");
    int i = index == null ? 0 : index.isInt() ? index.asInt() : -1;
    checkArgument(i >= 0, "%s: task.index must be a non-negative integer, got %s", source, index);
    int count = jobs.get(type.asText()).size();
    checkArgument(i < count, "%s: task.index %s is out of range: cluster.%s has %s task(s) (indices 0..%s)", source,
        i, type.asText(), count, count - 1);
    return new ClusterSpec(ImmutableMap.copyOf(jobs), new Task(type.asText(), i));
  }

  /** From {@code file} when given, else from the {@code TF_CONFIG} environment variable. */
  public static ClusterSpec load(Optional<Path> file) throws IOException {
    if (file.isPresent()) {
      Path f = file.get();
      checkArgument(Files.isRegularFile(f), "cluster file %s does not exist", f);
      return parse(Files.readString(f), f.toString());
    }
    String env = System.getenv(ENV);
    checkArgument(env != null && !env.isBlank(), "no cluster given: pass --cluster FILE or set %s", ENV);
    return parse(env, ENV);
  }

  /** The port of a {@code host:port} address; an error naming {@code field} when malformed. */
  static int port(String address, String field) {
    Matcher m = ADDRESS.matcher(address);
    checkArgument(m.matches(), "%s: malformed address '%s' (expected host:port)", field, address);
    int port = Integer.parseInt(m.group(2));
    checkArgument(port >= 1 && port <= 65535, "%s: port %s of '%s' is not in 1..65535", field, port, address);
    return port;
  }

  /** The task that coordinates the job: the chief, else worker 0. */
  public Task chief() {
    return jobs.containsKey(CHIEF) ? new Task(CHIEF, 0) : new Task(WORKER, 0);
  }

  public boolean isChief() {
    return task.equals(chief());
  }

  /** The tasks that compute replicas: the chief and every worker, chief first. */
  public ImmutableList<Task> computeTasks() {
    ImmutableList.Builder<Task> out = ImmutableList.builder();
    if (jobs.containsKey(CHIEF)) {
      out.add(new Task(CHIEF, 0));
    }
    for (int i = 0; i < jobs.getOrDefault(WORKER, ImmutableList.of()).size(); i++) {
      out.add(new Task(WORKER, i));
    }
    return out.build();
  }

  /** Every task, job by job. */
  public ImmutableList<Task> tasks() {
    ImmutableList.Builder<Task> out = ImmutableList.builder();
    jobs.forEach((job, addresses) -> {
      for (int i = 0; i < addresses.size(); i++) {
        out.add(new Task(job, i));
      }
    });
    return out.build();
  }

  public String address(Task t) {
    ImmutableList<String> addresses = jobs.get(t.type());
    checkArgument(addresses != null && t.index() < addresses.size(), "task %s is not in the cluster %s", t, jobs);
    return addresses.get(t.index());
  }

  /** The same cluster seen from another task. */
  public ClusterSpec forTask(Task t) {
    address(t);
    return new ClusterSpec(jobs, t);
  }

  /** The gRPC target of a task's server: {@code grpc://host:port}. */
  public String target(Task t) {
    return "grpc://" + address(t);
  }

  /** TensorFlow's ServerDef for this process's task. */
  public ServerDef serverDef() {
    return serverDef(org.tensorflow.proto.ConfigProto.getDefaultInstance());
  }

  /**
   * TensorFlow's ServerDef for this process's task, whose devices and sessions use
   * {@code sessionConfig} (e.g. its intra-op thread count).
   */
  public ServerDef serverDef(org.tensorflow.proto.ConfigProto sessionConfig) {
    ClusterDef.Builder cluster = ClusterDef.newBuilder();
    jobs.forEach((job, addresses) -> {
      JobDef.Builder j = JobDef.newBuilder().setName(job);
      for (int i = 0; i < addresses.size(); i++) {
        j.putTasks(i, addresses.get(i));
      }
      cluster.addJob(j);
    });
    return ServerDef.newBuilder().setCluster(cluster).setJobName(task.type()).setTaskIndex(task.index())
        .setProtocol("grpc").setDefaultSessionConfig(sessionConfig).build();
  }

  /** The TF_CONFIG JSON of this spec (what {@link #parse} reads). */
  public String toJson() {
    var root = MAPPER.createObjectNode();
    var cluster = root.putObject("cluster");
    jobs.forEach((job, addresses) -> addresses.forEach(cluster.putArray(job)::add));
    root.putObject("task").put("type", task.type()).put("index", task.index());
    return root.toString();
  }
}
