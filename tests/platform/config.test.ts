import assert from "node:assert/strict";
import { ConfigError, ENV_VARS, parseConfig } from "../../src/config.ts";
import { EXTRA_SERVICE_ENV, servicePermissionFlags } from "../../src/launcher.ts";

function problemsOf(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    parseConfig(env);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be rejected`);
}

Deno.test("config", async (t) => {
  await t.step("defaults", () => {
    const { nodeId, ...config } = parseConfig({});
    // The host's name and the port: the same after a restart, different per node on a host.
    assert.match(nodeId, /^[\w.:-]+:8787$/);
    assert.deepEqual(config, {
      port: 8787,
      host: "127.0.0.1",
      dataDir: "./data",
      maxBodyBytes: 64 * 1024 * 1024,
      apiTokens: [],
      maxSimulations: 8,
      logLevel: "info",
      corsOrigins: ["*"],
      autotune: true,
      backend: "auto",
      cpuThreads: Math.min(16, navigator.hardwareConcurrency),
      runLimits: { maxBatchSize: 65_536, maxTrainIdsPerStudy: 1_000_000 },
      blobs: { location: { kind: "local" }, graceSeconds: 3600 },
      databaseUrl: null,
      role: "all",
      jobHeartbeatSeconds: 60,
    });
  });

  await t.step("cluster variables: database URL, role, node id", () => {
    const config = parseConfig({
      SIMFLUENCE_DATABASE_URL: " postgres://u:p@db.internal:5432/simfluence ",
      SIMFLUENCE_ROLE: "Worker",
      SIMFLUENCE_NODE_ID: "gpu-3",
    });
    assert.equal(config.databaseUrl, "postgres://u:p@db.internal:5432/simfluence");
    assert.equal(config.role, "worker");
    assert.equal(config.nodeId, "gpu-3");
    assert.equal(parseConfig({ SIMFLUENCE_JOB_HEARTBEAT_SECONDS: "10" }).jobHeartbeatSeconds, 10);
    // A refused URL is named, never echoed: it may hold a password.
    const [refused] = problemsOf({ SIMFLUENCE_DATABASE_URL: "mysql://u:hunter2@db/x" });
    assert.equal(refused.variable, "SIMFLUENCE_DATABASE_URL");
    assert.ok(!refused.message.includes("hunter2"), refused.message);
    assert.deepEqual(
      problemsOf({
        SIMFLUENCE_DATABASE_URL: "mysql://x",
        SIMFLUENCE_ROLE: "boss",
        SIMFLUENCE_NODE_ID: "a b",
        // pg-boss refuses a heartbeat under 10 s.
        SIMFLUENCE_JOB_HEARTBEAT_SECONDS: "5",
      }).map((p) => p.variable).sort(),
      [
        "SIMFLUENCE_DATABASE_URL",
        "SIMFLUENCE_JOB_HEARTBEAT_SECONDS",
        "SIMFLUENCE_NODE_ID",
        "SIMFLUENCE_ROLE",
      ],
    );
  });

  await t.step("valid values are parsed", () => {
    const config = parseConfig({
      PORT: "9000",
      HOST: "0.0.0.0",
      SIMFLUENCE_DATA_DIR: "/var/lib/simfluence",
      SIMFLUENCE_MAX_BODY_MB: "1.5",
      SIMFLUENCE_API_TOKEN: "s3cret-token",
      SIMFLUENCE_LOG_LEVEL: "DEBUG",
      SIMFLUENCE_CORS_ORIGINS: "https://a.example, http://localhost:3000/",
    });
    assert.equal(config.port, 9000);
    assert.equal(config.host, "0.0.0.0");
    assert.equal(config.dataDir, "/var/lib/simfluence");
    assert.equal(config.maxBodyBytes, Math.floor(1.5 * 1024 * 1024));
    assert.deepEqual(config.apiTokens, [{
      name: "default",
      scope: "write",
      token: "s3cret-token",
    }]);
    assert.equal(config.logLevel, "debug");
    assert.deepEqual(config.corsOrigins, ["https://a.example", "http://localhost:3000"]);
  });

  await t.step("empty values mean the default", () => {
    const config = parseConfig({ PORT: "", SIMFLUENCE_API_TOKEN: "  ", SIMFLUENCE_LOG_LEVEL: "" });
    assert.equal(config.port, 8787);
    assert.deepEqual(config.apiTokens, []);
    assert.equal(config.logLevel, "info");
  });

  await t.step("a wildcard anywhere in the origin list allows all", () => {
    assert.deepEqual(parseConfig({ SIMFLUENCE_CORS_ORIGINS: "https://a.example,*" }).corsOrigins, [
      "*",
    ]);
  });

  await t.step("each bad value is rejected naming its variable", () => {
    const cases: [Record<string, string>, string][] = [
      [{ PORT: "abc" }, "PORT"],
      [{ PORT: "70000" }, "PORT"],
      [{ PORT: "-1" }, "PORT"],
      [{ PORT: "80.5" }, "PORT"],
      [{ HOST: "bad host" }, "HOST"],
      [{ SIMFLUENCE_MAX_BODY_MB: "0" }, "SIMFLUENCE_MAX_BODY_MB"],
      [{ SIMFLUENCE_MAX_BODY_MB: "-3" }, "SIMFLUENCE_MAX_BODY_MB"],
      [{ SIMFLUENCE_MAX_BODY_MB: "lots" }, "SIMFLUENCE_MAX_BODY_MB"],
      [{ SIMFLUENCE_API_TOKEN: "has space" }, "SIMFLUENCE_API_TOKEN"],
      [{ SIMFLUENCE_MAX_SIMULATIONS: "0" }, "SIMFLUENCE_MAX_SIMULATIONS"],
      [{ SIMFLUENCE_API_TOKENS: "ci:admin:0123456789abcdef" }, "SIMFLUENCE_API_TOKENS"],
      [{ SIMFLUENCE_API_TOKENS: "ci:read:short" }, "SIMFLUENCE_API_TOKENS"],
      [{ SIMFLUENCE_API_TOKENS: "0123456789abcdef" }, "SIMFLUENCE_API_TOKENS"],
      [
        { SIMFLUENCE_API_TOKENS: "a:read:0123456789abcdef,a:write:fedcba9876543210" },
        "SIMFLUENCE_API_TOKENS",
      ],
      [
        { SIMFLUENCE_API_TOKENS: "a:read:0123456789abcdef,b:write:0123456789abcdef" },
        "SIMFLUENCE_API_TOKENS",
      ],
      [{ SIMFLUENCE_LOG_LEVEL: "verbose" }, "SIMFLUENCE_LOG_LEVEL"],
      [{ SIMFLUENCE_CORS_ORIGINS: "example.com" }, "SIMFLUENCE_CORS_ORIGINS"],
      [{ SIMFLUENCE_CORS_ORIGINS: " , " }, "SIMFLUENCE_CORS_ORIGINS"],
    ];
    for (const [env, variable] of cases) {
      const problems = problemsOf(env);
      assert.deepEqual(problems.map((p) => p.variable), [variable], JSON.stringify(env));
    }
  });

  await t.step("several bad values are all reported, in the message too", () => {
    try {
      parseConfig({ PORT: "x", SIMFLUENCE_LOG_LEVEL: "loud" });
      assert.fail("expected a ConfigError");
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /PORT: .*"x"/);
      assert.match(e.message, /SIMFLUENCE_LOG_LEVEL: .*debug\|info\|warn\|error/);
    }
  });

  await t.step("the token's value never appears in the message", () => {
    const problems = problemsOf({ SIMFLUENCE_API_TOKEN: "top secret" });
    assert.ok(!problems[0].message.includes("top secret"));
    const listed = problemsOf({ SIMFLUENCE_API_TOKENS: "ci:admin:hunter2-hunter2-hunter2" });
    assert.ok(!listed[0].message.includes("hunter2"), listed[0].message);
  });

  await t.step("named tokens with scopes, after the legacy one; secrets may hold colons", () => {
    const config = parseConfig({
      SIMFLUENCE_API_TOKEN: "legacy-token",
      SIMFLUENCE_API_TOKENS: " dash:read:0123456789abcdef , ci:write:a:b:c:d:e:f:g:h:i:j ,",
    });
    assert.deepEqual(config.apiTokens, [
      { name: "default", scope: "write", token: "legacy-token" },
      { name: "dash", scope: "read", token: "0123456789abcdef" },
      { name: "ci", scope: "write", token: "a:b:c:d:e:f:g:h:i:j" },
    ]);
  });
});

Deno.test("the service is started with exactly the variables it reads", () => {
  const flags = servicePermissionFlags(parseConfig({}), {}, "/srv");
  const env = flags.find((f) => f.startsWith("--allow-env="));
  assert.ok(env, "the launcher must list the service's environment variables");
  // Besides ENV_VARS: DENO_WEBGPU_BACKEND (the GPU layer's backend choice) and the variables
  // node-postgres reads (EXTRA_SERVICE_ENV lists both).
  assert.deepEqual(
    env.slice("--allow-env=".length).split(",").sort(),
    [...ENV_VARS, ...EXTRA_SERVICE_ENV].sort(),
  );
  assert.ok(
    EXTRA_SERVICE_ENV.includes("DENO_WEBGPU_BACKEND") && EXTRA_SERVICE_ENV.includes("PGHOST"),
  );
});

Deno.test("SIMFLUENCE_AUTOTUNE is on unless set to off", () => {
  assert.equal(parseConfig({}).autotune, true);
  assert.equal(parseConfig({ SIMFLUENCE_AUTOTUNE: " OFF " }).autotune, false);
  assert.throws(() => parseConfig({ SIMFLUENCE_AUTOTUNE: "never" }), /SIMFLUENCE_AUTOTUNE/);
});

Deno.test("the service may write only its data directory, wherever that is", () => {
  const outside = servicePermissionFlags(
    parseConfig({ SIMFLUENCE_DATA_DIR: "/var/lib/simfluence" }),
    { DENO_DIR: "/cache/deno" },
    "/srv",
  );
  assert.ok(outside.includes("--allow-write=/var/lib/simfluence"));
  const read = outside.find((f) => f.startsWith("--allow-read="))!.split("=")[1].split(",");
  assert.ok(read.includes("/var/lib/simfluence") && read.includes("/cache/deno/npm"));
  assert.ok(!outside.some((f) => f === "--allow-all" || f === "--allow-write" || f === "-A"));
  const relative = servicePermissionFlags(parseConfig({}), { HOME: "/home/u" }, "/srv");
  assert.ok(relative.includes("--allow-write=/srv/data"));
  assert.ok(
    relative.find((f) => f.startsWith("--allow-read="))!.includes("/home/u/.cache/deno/npm"),
  );
});
