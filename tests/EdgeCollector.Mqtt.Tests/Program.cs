using System.Globalization;
using System.Text;
using EdgeCollector.Mqtt.Client;
using EdgeCollector.Mqtt.Outbox;

namespace EdgeCollector.Mqtt.Tests;

/// <summary>
/// Entry point used only when the test assembly is run as a child process
/// (<c>dotnet EdgeCollector.Mqtt.Tests.dll outbox-publish …</c>) by the crash test, which kills it with SIGKILL.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length >= 1 && args[0] == "bench") return await BenchAsync(args);
        if (args.Length >= 1 && args[0] == "outbox-enqueue") return await EnqueueUntilKilledAsync(args);
        if (args.Length < 8 || args[0] != "outbox-publish")
        {
            await Console.Error.WriteLineAsync("usage: outbox-publish <dir> <port> <user> <password> <topic> <count> <intervalMs>");
            return 2;
        }
        string dir = args[1];
        int port = int.Parse(args[2], CultureInfo.InvariantCulture);
        string topic = args[5];
        int count = int.Parse(args[6], CultureInfo.InvariantCulture);
        int intervalMs = int.Parse(args[7], CultureInfo.InvariantCulture);

        await using var outbox = await MqttOutbox.OpenAsync(new MqttOutboxOptions { Directory = dir });
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1", Port = port, ClientId = "crash-publisher", UserName = args[3], Password = args[4],
            ReconnectMinDelay = TimeSpan.FromMilliseconds(200), ReconnectMaxDelay = TimeSpan.FromSeconds(1),
            KeepAlive = TimeSpan.FromSeconds(5),
        });
        await client.StartAsync();
        await using var publisher = new OutboxPublisher(client, outbox);
        publisher.Start();
        Console.WriteLine($"STARTED stored={outbox.Count}");

        string run = Guid.NewGuid().ToString("N")[..8];
        for (int i = 0; i < count; i++)
        {
            // The payload embeds its seq, as a KPI message does (contracts.md §2).
            long seq = await publisher.EnqueueAsync(topic, s => Encoding.UTF8.GetBytes($"seq={s};run={run};i={i}"), false, OutboxPriority.Aggregate);
            Console.WriteLine($"ENQUEUED {seq}");
            if (intervalMs > 0) await Task.Delay(intervalMs);
        }
        bool drained = await publisher.WaitUntilEmptyAsync(TimeSpan.FromSeconds(60));
        Console.WriteLine(drained ? "DRAINED" : "NOT-DRAINED");
        await client.DisconnectAsync();
        return drained ? 0 : 1;
    }

    /// <summary>
    /// <c>outbox-enqueue &lt;dir&gt; &lt;producers&gt;</c>: no broker; <c>producers</c> concurrent producers enqueue without end
    /// (group commit) and print <c>COMMITTED seq</c> for every seq handed back, until the process is killed.
    /// </summary>
    private static async Task<int> EnqueueUntilKilledAsync(string[] args)
    {
        int producers = int.Parse(args[2], CultureInfo.InvariantCulture);
        var outbox = await MqttOutbox.OpenAsync(new MqttOutboxOptions { Directory = args[1] });
        Console.WriteLine("STARTED");
        await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
        {
            for (int i = 0; ; i++)
            {
                long seq = await outbox.EnqueueAsync("crash/kpi", s => Encoding.UTF8.GetBytes($"seq={s};producer={p};i={i}"), false, OutboxPriority.Aggregate);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"COMMITTED {seq} producer={p} i={i} transactions={outbox.CommitCount}"));
            }
        })));
        return 0;
    }

    /// <summary>
    /// Hands <paramref name="total"/> QoS 1 publishes to the client at once. Compiled fully optimized from the start: the
    /// loop runs twice (warm-up, timed), too few calls for tiered compilation to leave its first, unoptimized code.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static Task[] PublishAll(MqttClient client, byte[] payload, int total)
    {
        var tasks = new Task[total];
        for (int i = 0; i < total; i++) tasks[i] = client.PublishAsync("bench/direct", payload, Packets.MqttQualityOfService.AtLeastOnce);
        return tasks;
    }

    /// <summary>
    /// <c>bench [--v311] &lt;port&gt; &lt;count&gt; &lt;payloadBytes&gt; &lt;window&gt; [warmup [outbox-dir [sequential|concurrent|batch] [n]]]</c>:
    /// QoS 1 messages/s to a local broker, straight through the client, or through the durable outbox when a directory
    /// is given: one enqueue awaited at a time (sequential), n producers each awaiting its own enqueues (concurrent,
    /// group commit), or EnqueueBatchAsync with n messages each (batch, as the collector hands messages to the
    /// uplink). <c>warmup</c> messages go the same way first, untimed, so that the JIT has compiled the path (the
    /// steady rate of a long-running service). The outbox time runs from the first enqueue until the outbox is empty
    /// (every message acknowledged and deleted).
    /// </summary>
    private static async Task<int> BenchAsync(string[] args)
    {
        // "--v311" anywhere: speak MQTT 3.1.1 (no Receive Maximum from the broker: the window is ours alone).
        var version = args.Contains("--v311") ? Packets.MqttProtocolVersion.V311 : Packets.MqttProtocolVersion.V500;
        args = [.. args.Where(a => a != "--v311")];
        int port = int.Parse(args[1], CultureInfo.InvariantCulture);
        int count = int.Parse(args[2], CultureInfo.InvariantCulture);
        byte[] payload = new byte[int.Parse(args[3], CultureInfo.InvariantCulture)];
        int window = int.Parse(args[4], CultureInfo.InvariantCulture);
        int warmup = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 0;
        string? dir = args.Length > 6 ? args[6] : null;
        string mode = args.Length > 7 ? args[7] : "sequential";
        int n = args.Length > 8 ? int.Parse(args[8], CultureInfo.InvariantCulture) : 1;
        if (mode is not ("sequential" or "concurrent" or "batch"))
        {
            await Console.Error.WriteLineAsync($"unknown outbox mode '{mode}'");
            return 2;
        }
        await using var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = port, ClientId = $"bench-{Environment.ProcessId}", MaxInFlight = window, ProtocolVersion = version });
        await client.ConnectAsync();
        MqttOutbox? outbox = dir is null ? null : await MqttOutbox.OpenAsync(new MqttOutboxOptions { Directory = dir });
        OutboxPublisher? publisher = outbox is null ? null : new OutboxPublisher(client, outbox);
        publisher?.Start();
        try
        {
            if (warmup > 0) await RunAsync(warmup);
            // BENCH_START_AT (Unix ms): several bench processes start their timed part together (bench/mqtt.sh's
            // ceiling row); a process whose warm-up ends after that moment says so.
            long? startAt = long.TryParse(Environment.GetEnvironmentVariable("BENCH_START_AT"), CultureInfo.InvariantCulture, out long at) ? at : null;
            string late = "";
            if (startAt is { } t0)
            {
                long wait = t0 - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(wait));
                else late = string.Create(CultureInfo.InvariantCulture, $"; LATE by {-wait} ms");
            }
            var counters0 = client.Counters;
            var cpu0 = ProcessCpu();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            double committed = await RunAsync(count);
            var elapsed = sw.Elapsed.TotalSeconds;
            long endedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var cpu = ProcessCpu() - cpu0;
            var counters = client.Counters;
            long reads = counters.Reads - counters0.Reads, writes = counters.Writes - counters0.Writes;
            string detail = publisher is null ? "" : string.Create(CultureInfo.InvariantCulture,
                $" (all committed after {committed:0.000} s = {count / committed:0} enqueues/s; {mode}{(mode == "sequential" ? "" : $" {n}")}; {outbox!.CommitCount} enqueue transactions in all)");
            using var self = System.Diagnostics.Process.GetCurrentProcess();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{count} QoS1 messages of {payload.Length} B in {elapsed:0.000} s = {count / elapsed:0} msg/s{detail}; client CPU {cpu.TotalMilliseconds:0} ms = {cpu.TotalMilliseconds * 1000 / count:0.0} us/msg ({cpu.TotalSeconds / elapsed:0.00} cores); window {client.InFlightLimit}, {reads} socket reads and {writes} writes ({(double)count / Math.Max(reads, 1):0.0} and {(double)count / Math.Max(writes, 1):0.0} msg each), {counters.CoalescePauses - counters0.CoalescePauses} coalescing pauses; peak working set {self.PeakWorkingSet64 / (1024 * 1024)} MiB{(startAt is null ? "" : $"; ended at {endedAt}")}{late}"));
        }
        finally
        {
            if (publisher is not null) await publisher.DisposeAsync();
            if (outbox is not null) await outbox.DisposeAsync();
        }
        await client.DisconnectAsync();
        return 0;

        // User + system CPU of this whole process so far (every thread; /proc/self/stat on Linux).
        static TimeSpan ProcessCpu()
        {
            using var self = System.Diagnostics.Process.GetCurrentProcess();
            return self.TotalProcessorTime;
        }

        // Sends `total` messages the chosen way and waits until all are acknowledged (and, through the outbox,
        // deleted); returns the seconds until the last one was committed to the outbox.
        async Task<double> RunAsync(int total)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            if (publisher is null)
            {
                await Task.WhenAll(PublishAll(client, payload, total));
                return sw.Elapsed.TotalSeconds;
            }
            switch (mode)
            {
                case "sequential":
                    for (int i = 0; i < total; i++) await publisher.EnqueueAsync("bench/outbox", payload, false, OutboxPriority.Aggregate);
                    break;
                case "concurrent":
                    int next = -1;
                    await Task.WhenAll(Enumerable.Range(0, n).Select(_ => Task.Run(async () =>
                    {
                        while (Interlocked.Increment(ref next) < total) await publisher.EnqueueAsync("bench/outbox", payload, false, OutboxPriority.Aggregate);
                    })));
                    break;
                default:
                    for (int i = 0; i < total; i += n)
                    {
                        var batch = Enumerable.Range(0, Math.Min(n, total - i)).Select(_ => ("bench/outbox", (ReadOnlyMemory<byte>)payload, false, OutboxPriority.Aggregate)).ToList();
                        await publisher.EnqueueBatchAsync(batch);
                    }
                    break;
            }
            double committed = sw.Elapsed.TotalSeconds;
            if (!await publisher.WaitUntilEmptyAsync(TimeSpan.FromMinutes(5))) throw new TimeoutException("outbox not drained within 5 minutes");
            return committed;
        }
    }
}
