using System.CommandLine;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Pipeline;
using EdgeCollector.Sinks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeCollector.Cli;

/// <summary><c>edgecollector run</c>: the collector service (systemd, container or a terminal).</summary>
public static class RunCommand
{
    public static readonly Option<bool> UntilSourcesEndOption = new("--until-sources-end")
    {
        Description = "Stop once every source has ended (recordings): publish what a replay would at the end, forward it, exit 0.",
    };

    public static readonly Option<string?> SimClockOption = new("--sim-clock")
    {
        Description = "Developer/demo only: run on the simulated plant's compressed clock (the spec `edgecollector-sim plant --clock-out` writes, " +
            "or @FILE). Timestamps and the engine's live clock follow it; timeouts, back-off and cadences stay wall time.",
    };

    public static Command Build()
    {
        var command = new Command("run", "Run the collector: sources → engine → state store → sinks, until stopped (SIGTERM / Ctrl+C).");
        CommandLine.AddConfigOptions(command);
        command.Options.Add(UntilSourcesEndOption);
        command.Options.Add(SimClockOption);
        command.SetAction(async (parse, ct) =>
        {
            var config = CommandLine.LoadConfig(parse, Console.Error);
            if (config is null)
            {
                return ExitCodes.BadInput;
            }

            Simulators.Live.SimClock? clock = null;
            if (parse.GetValue(SimClockOption) is { } spec)
            {
                try
                {
                    clock = Simulators.Live.SimClock.Parse(spec.StartsWith('@') ? (await File.ReadAllTextAsync(spec[1..], ct)).Trim() : spec);
                }
                catch (Exception ex) when (ex is FormatException or IOException or ArgumentException)
                {
                    await Console.Error.WriteLineAsync($"--sim-clock: {ex.Message}");
                    return ExitCodes.BadInput;
                }
            }

            return await RunAsync(config, parse.GetValue(UntilSourcesEndOption), ct, clock);
        });
        return command;
    }

    /// <param name="clock">A simulated plant's clock (developer/demo only, see <see cref="SimClockOption"/>); null = the system clock.</param>
    /// <param name="extraSink">Another sink every message also goes to (the demo's console and file).</param>
    public static async Task<int> RunAsync(EdgeConfig config, bool untilSourcesEnd, CancellationToken ct, Simulators.Live.SimClock? clock = null, IMessageSink? extraSink = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = Environment.CurrentDirectory });
        builder.WebHost.UseUrls(config.Dashboard.Urls);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        // One line per HTTP request (the dashboard polls) would drown the plant's own messages.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // Sized to the outbox flush: a stop commits state and lets the forwarder finish its batch.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
        TimeProvider time = clock ?? TimeProvider.System;
        if (clock is not null)
        {
            loggers.CreateLogger("EdgeCollector").LogWarning("Simulated clock ({Spec}): developer/demo only, timestamps run {Speed}x wall time", clock.Spec, clock.Speed);
        }

        var (sources, errors) = SourceFactory.Create(config, loggers, time);
        if (errors.Count > 0)
        {
            foreach (var e in errors)
            {
                await Console.Error.WriteLineAsync(e);
            }

            return ExitCodes.BadInput;
        }

        bool recording = config.Sources.Any(s => s.Type == SourceType.Recording);
        Collector? collector = null;
        // The uplink is a config change: MQTT when Uplink.Mqtt is set, else a JSONL file in the data dir.
        MqttUplink? uplink = config.Uplink.Mqtt is null ? null : await MqttUplink.StartAsync(config, loggers.CreateLogger("EdgeCollector.Uplink"),
            TimeProvider.System, () => collector?.SourceHealth() ?? new Dictionary<string, SourceHealth>(), ct);
        IMessageSink sink = uplink is null ? new JsonlMessageSink(Path.Combine(config.Storage.DataDir, "messages.jsonl")) : uplink;
        // InfluxDB only when configured: raw samples (observer) and KPIs (sink).
        InfluxSink? influx = config.Storage.Influx is null ? null : InfluxSink.Start(config, loggers.CreateLogger("EdgeCollector.Influx"));
        IMessageSink[] sinks = [sink, .. influx is null ? Array.Empty<IMessageSink>() : [influx], .. extraSink is null ? Array.Empty<IMessageSink>() : [extraSink]];
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(sp => collector = new Collector(config, sources, sinks, sp.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeCollector"),
            time, new CollectorOptions
            {
                LiveClock = !recording,
                ExitWhenSourcesEnd = untilSourcesEnd,
                // The live clock's lag is 5 s of wall time whatever the speed (in simulated time: 5 s × speed).
                LiveClockLag = clock is null ? new CollectorOptions().LiveClockLag : TimeSpan.FromSeconds(5 * clock.Speed),
            }));
        builder.Services.AddSingleton<CollectorService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CollectorService>());
        await using var host = builder.Build();
        OperationsEndpoints.Map(host, config, () => collector, uplink, influx);
        var service = host.Services.GetRequiredService<CollectorService>();
        try
        {
            try
            {
                await host.RunAsync(ct);   // disposes the host when it ends
            }
            catch (IOException ex) when (ex.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
            {
                await Console.Error.WriteLineAsync($"Dashboard.Urls: cannot listen on {config.Dashboard.Urls}: {ex.Message}");
                return ExitCodes.BadInput;
            }

            if (uplink is not null && untilSourcesEnd && !service.Failed)
            {
                // A finite run (backfill) ends when the broker has acknowledged everything; a stop
                // (SIGTERM) ends the wait and the durable outbox keeps the rest for the next run.
                try
                {
                    while (!await uplink.WaitUntilEmptyAsync(TimeSpan.FromSeconds(30), ct))
                    {
                        Console.Error.WriteLine($"waiting for the broker to acknowledge {uplink.OutboxDepth} message(s)…");
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                }
            }
        }
        finally
        {
            if (uplink is not null)
            {
                await uplink.DisposeAsync();
            }

            if (influx is not null)
            {
                await influx.DisposeAsync();
            }
        }

        return service.Failed ? ExitCodes.Failure : ExitCodes.Ok;
    }
}

/// <summary>Hosts the collector; stops the application when a finite run completes.</summary>
internal sealed class CollectorService(Collector collector, IHostApplicationLifetime lifetime, ILogger<CollectorService> log) : BackgroundService
{
    public bool Failed { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await collector.RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Failed = true;
            log.LogCritical(ex, "The collector stopped on an unexpected error");
        }
        finally
        {
            lifetime.StopApplication();
        }
    }
}
