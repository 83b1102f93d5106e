using System.Buffers;
using System.Reflection;
using System.Text.Json;
using EdgeCollector.Configuration;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using EdgeCollector.Mqtt.Client;
using EdgeCollector.Mqtt.Outbox;
using EdgeCollector.Mqtt.Packets;
using EdgeCollector.Pipeline;
using Microsoft.Extensions.Logging;

namespace EdgeCollector.Sinks;

/// <summary>
/// The MQTT uplink (contracts.md §2): every KPI and ticket message goes into the durable MQTT
/// outbox (SQLite under the data dir) and is published QoS 1 from there, oldest first, deleted on
/// PUBACK. The retained <c>{prefix}/{site}/site/status</c> topic says <c>online</c> on every connect;
/// the broker publishes the <c>offline</c> last will when the link dies.
/// </summary>
public sealed class MqttUplink : IMessageSink, IAsyncDisposable
{
    private readonly MqttClient _client;
    private readonly OutboxPublisher _publisher;
    private readonly string _statusTopic;
    private readonly string _site;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Func<IReadOnlyDictionary<string, SourceHealth>> _sources;
    private readonly CancellationTokenSource _stop = new();
    private long _since;

    private MqttUplink(MqttClient client, OutboxPublisher publisher, string statusTopic, string site, ILogger log, TimeProvider time,
        Func<IReadOnlyDictionary<string, SourceHealth>> sources)
    {
        _client = client;
        _publisher = publisher;
        _statusTopic = statusTopic;
        _site = site;
        _log = log;
        _time = time;
        _sources = sources;
    }

    public string Name => "mqtt";

    public MqttConnectionState State => _client.State;

    public long OutboxDepth => _publisher.Outbox.Count;

    /// <summary>From a message's commit to the outbox to the broker's PUBACK.</summary>
    public Mqtt.Outbox.LatencyHistogram PublishLatency => _publisher.PublishLatency;

    public static string Version { get; } =
        typeof(MqttUplink).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public static async Task<MqttUplink> StartAsync(EdgeConfig config, ILogger log, TimeProvider time,
        Func<IReadOnlyDictionary<string, SourceHealth>> sources, CancellationToken ct)
    {
        var mqtt = config.Uplink.Mqtt!;
        var (host, port, tls) = MqttClientOptions.ParseBrokerUri(mqtt.Broker);
        string statusTopic = $"{mqtt.TopicPrefix}/{config.Site.Id}/site/status";
        MqttLogCallback mqttLog = (level, message, ex) => log.Log(level switch
        {
            MqttLogLevel.Debug => LogLevel.Debug,
            MqttLogLevel.Information => LogLevel.Information,
            MqttLogLevel.Warning => LogLevel.Warning,
            _ => LogLevel.Error,
        }, level == MqttLogLevel.Error ? ex : null, "mqtt: {Message}", message);   // warnings (refused, lost, timed out) name the fault; no stack trace per retry
        var client = new MqttClient(new MqttClientOptions
        {
            Host = host,
            Port = port,
            UseTls = tls,
            CaFile = mqtt.CaFile,
            ClientCertificateFile = mqtt.ClientCertFile,
            ClientId = mqtt.ClientId is { Length: > 0 } id ? id : $"edge-{config.Site.Id}",
            ProtocolVersion = mqtt.ProtocolVersion == "3.1.1" ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500,
            UserName = mqtt.User,
            Password = SecretResolver.Resolve(mqtt.PasswordEnv),
            Will = new MqttWill
            {
                Topic = statusTopic,
                Payload = StatusPayload(config.Site.Id, "offline", time.GetUtcNow().UtcTicks, null),
                QoS = MqttQualityOfService.AtLeastOnce,
                Retain = true,
            },
            Log = mqttLog,
            // A plant uplink that comes back should be used within half a minute.
            ReconnectMaxDelay = TimeSpan.FromSeconds(30),
        });
        var outbox = await MqttOutbox.OpenAsync(new MqttOutboxOptions { Directory = Path.Combine(config.Storage.DataDir, "mqtt"), Log = mqttLog }, ct);
        var publisher = new OutboxPublisher(client, outbox, log: mqttLog);
        var uplink = new MqttUplink(client, publisher, statusTopic, config.Site.Id, log, time, sources);
        client.StateChanged += uplink.OnStateChanged;
        publisher.Start();
        _ = client.StartAsync(uplink._stop.Token);
        return uplink;
    }

    private void OnStateChanged(MqttConnectionState state)
    {
        if (state != MqttConnectionState.Connected)
        {
            return;
        }

        // Straight to the broker, not behind the outbox's backlog: "online" is about now.
        _since = _time.GetUtcNow().UtcTicks;
        _ = _client.PublishAsync(_statusTopic, StatusPayload(_site, "online", _since, _sources()), MqttQualityOfService.AtLeastOnce, retain: true, dup: false, _stop.Token)
            .ContinueWith(t => _log.LogWarning(t.Exception, "mqtt: online status not published"), TaskContinuationOptions.OnlyOnFaulted);
    }

    public async Task DeliverAsync(IReadOnlyList<StoredMessage> messages, CancellationToken cancellationToken)
    {
        await _publisher.EnqueueBatchAsync(messages.Select(m => (m.Topic, (ReadOnlyMemory<byte>)m.Payload, m.Retain, OutboxPriority.Aggregate)).ToList(), cancellationToken);
    }

    /// <summary>contracts.md §2 status payload.</summary>
    public static byte[] StatusPayload(string site, string state, long since, IReadOnlyDictionary<string, SourceHealth>? sources)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var j = new Utf8JsonWriter(buffer))
        {
            j.WriteStartObject();
            j.WriteString("schema", PayloadWriter.StatusSchema);
            j.WriteString("site", site);
            j.WriteString("state", state);
            j.WriteString("since", EngineTime.Format(since));
            j.WriteString("version", Version);
            if (sources is not null)
            {
                j.WriteStartObject("sources");
                foreach (var (name, health) in sources.OrderBy(s => s.Key, StringComparer.Ordinal))
                {
                    j.WriteStartObject(name);
                    j.WriteBoolean("connected", health.Connected);
                    if (health.LastSampleAt is long last)
                    {
                        j.WriteString("lastSampleAt", EngineTime.Format(last));
                    }
                    else
                    {
                        j.WriteNull("lastSampleAt");
                    }

                    j.WriteEndObject();
                }

                j.WriteEndObject();
            }

            j.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Waits until the outbox is empty (tests and graceful stops).</summary>
    public Task<bool> WaitUntilEmptyAsync(TimeSpan timeout, CancellationToken ct) => _publisher.WaitUntilEmptyAsync(timeout, ct);

    public async ValueTask DisposeAsync()
    {
        if (_client.State == MqttConnectionState.Connected)
        {
            // A clean stop says so itself (a DISCONNECT discards the will [MQTT-3.1.2-10]).
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _client.PublishAsync(_statusTopic, StatusPayload(_site, "offline", _time.GetUtcNow().UtcTicks, null),
                    MqttQualityOfService.AtLeastOnce, retain: true, dup: false, timeout.Token);
                await _client.DisconnectAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or MqttConnectionLostException or MqttPublishRejectedException)
            {
                _log.LogWarning(ex, "mqtt: offline status not sent on stop; the broker will publish the last will");
            }
        }

        await _stop.CancelAsync();
        await _publisher.DisposeAsync();
        await _client.DisposeAsync();
        _stop.Dispose();
    }
}

/// <summary>A source's health for the status message and the dashboard.</summary>
public readonly record struct SourceHealth(bool Connected, long? LastSampleAt);
