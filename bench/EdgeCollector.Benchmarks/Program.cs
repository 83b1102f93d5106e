using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;

namespace EdgeCollector.Benchmarks;

internal static class Program
{
    /// <summary>
    /// <c>dotnet run -c Release --project bench/EdgeCollector.Benchmarks -- --filter *</c> runs BenchmarkDotNet;
    /// <c>-- quick</c> prints a one-shot figure for a smoke check.
    /// </summary>
    public static int Main(string[] args)
    {
        if (args is ["opcua-subscribe", var endpoint, var countText, var secondsText, .. var more])
        {
            // Optional: [warmup-seconds] [publish-requests] (positional), or --warmup=<s> / --publish-requests=<n>.
            double warmup = 0;
            int? requests = null;
            var positional = 0;
            foreach (var arg in more)
            {
                if (arg.StartsWith("--warmup=", StringComparison.Ordinal))
                    warmup = double.Parse(arg["--warmup=".Length..], CultureInfo.InvariantCulture);
                else if (arg.StartsWith("--publish-requests=", StringComparison.Ordinal))
                    requests = int.Parse(arg["--publish-requests=".Length..], CultureInfo.InvariantCulture);
                else if (positional++ == 0)
                    warmup = double.Parse(arg, CultureInfo.InvariantCulture);
                else
                    requests = int.Parse(arg, CultureInfo.InvariantCulture);
            }

            return OpcUaSubscribeAsync(endpoint, int.Parse(countText, CultureInfo.InvariantCulture), double.Parse(secondsText, CultureInfo.InvariantCulture),
                warmup, requests).GetAwaiter().GetResult();
        }

        if (args is ["opcua-decode", .. var decodeArgs] && decodeArgs.Length <= 2)
        {
            return OpcUaDecode.Run(decodeArgs.Length > 0 ? int.Parse(decodeArgs[0], CultureInfo.InvariantCulture) : 1000,
                decodeArgs.Length > 1 ? double.Parse(decodeArgs[1], CultureInfo.InvariantCulture) : 5);
        }

        if (args is ["quick"])
        {
            var b = new EngineThroughput();
            b.Setup();
            b.ApplySamples();
            var sw = Stopwatch.StartNew();
            long published = b.ApplySamples();
            sw.Stop();
            Console.WriteLine($"engine: {EngineThroughput.SampleCount / sw.Elapsed.TotalSeconds:N0} samples/s ({EngineThroughput.SampleCount:N0} samples, {published} KPI messages, {sw.Elapsed.TotalMilliseconds:N0} ms)");
            return 0;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }

    /// <summary>
    /// <c>-- opcua-subscribe &lt;endpoint&gt; &lt;count&gt; &lt;seconds&gt; [warmup-seconds] [publish-requests]</c>: the OPC UA
    /// benchmark of issue 5 (bench/opcua.sh; without publish-requests the client's default number of outstanding
    /// Publish requests). One session, one subscription (publishing 1 s), &lt;count&gt; items
    /// <c>nsu=urn:edgecollector:bench;s=v&lt;i&gt;</c> (sampling 1 s, queue 1) in one CreateMonitoredItems call; waits
    /// &lt;warmup-seconds&gt; after they are created, then counts data changes for &lt;seconds&gt; and prints the CPU time
    /// (user+sys) of that window and of the warm-up, and the changes it never saw (from the values), as
    /// bench/opcua/client.js does for node-opcua.
    /// </summary>
    private static async Task<int> OpcUaSubscribeAsync(string endpoint, int count, double seconds, double warmup, int? publishRequests)
    {
        var started = Stopwatch.StartNew();
        var options = new UaClientOptions { EndpointUrl = endpoint };
        if (publishRequests is { } n)
            options = options with { PublishRequestCount = n };
        await using var client = await UaClient.ConnectAsync(options);
        var first = await client.ResolveNodeIdAsync("nsu=urn:edgecollector:bench;s=v0");
        var items = new UaMonitoredItemRequest[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = new UaMonitoredItemRequest
            {
                NodeId = new NodeId(first.NamespaceIndex, "v" + i.ToString(CultureInfo.InvariantCulture)),
                SamplingInterval = TimeSpan.FromSeconds(1),
                QueueSize = 1,
            };
        }

        // bench/opcua/server.js writes v<i> = i + tick / 2 on every tick, so the value tells which tick it is:
        // a tick an item skips is a change this client never saw (not just a late or slow server tick).
        // The struct callback gives the item, whose client handle is 1 + its index in `items` (the node-opcua
        // client gets the index from its group); the value is read without boxing.
        var lastTick = new int[count];
        Array.Fill(lastTick, -1);
        long notifications = 0, missed = 0, repeated = 0, unmatched = 0;
        var subscription = await client.SubscribeAsync(
            new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromSeconds(1), MaxKeepAliveCount = 10, LifetimeCount = 60 },
            items,
            (UaMonitoredItem item, in UaValue change, bool afterGap) =>
            {
                // One notification thread calls this, so plain increments are enough; read after the window.
                notifications++;
                var i = (int)item.ClientHandle - 1;
                if ((uint)i >= (uint)count || change.Type != BuiltInType.Double || !change.TryGetDouble(out var value))
                {
                    unmatched++;
                    return;
                }

                var tick = (int)Math.Round((value - i) * 2);
                if (lastTick[i] >= 0 && tick > lastTick[i] + 1)
                    missed += tick - lastTick[i] - 1;
                else if (tick == lastTick[i])
                    repeated++;
                lastTick[i] = tick;
            });
        var refused = subscription.Items.Count(i => i.Status.IsBad);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SUBSCRIBED {count - refused} {started.ElapsedMilliseconds}"));

        using var process = Process.GetCurrentProcess();
        var warm0 = process.TotalProcessorTime;
        if (warmup > 0)
            await Task.Delay(TimeSpan.FromSeconds(warmup));
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        var warmupCpu = cpu0 - warm0;
        var workItems0 = ThreadPool.CompletedWorkItemCount;
        var gc0 = GC.CollectionCount(0);

        // The counting window starts now: initial values that arrived during setup and warm-up are not counted.
        Volatile.Write(ref notifications, 0);
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        var received = Volatile.Read(ref notifications);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpu0;
        var workItems = ThreadPool.CompletedWorkItemCount - workItems0;
        var gcs = GC.CollectionCount(0) - gc0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT notifications={received} seconds={seconds} cpu={cpu.TotalSeconds:F3} warmup_cpu={warmupCpu.TotalSeconds:F3} rss_mb={Environment.WorkingSet / 1048576.0:F1} missed={Volatile.Read(ref missed)} repeated={Volatile.Read(ref repeated)} unmatched={Volatile.Read(ref unmatched) + subscription.UnknownHandleCount} rejected={client.RejectedNotificationCount} gaps={subscription.GapCount} reconnects={client.ReconnectCount} threadpool_items={workItems} gen0_gcs={gcs}"));
        await client.CloseAsync();
        return 0;
    }
}
