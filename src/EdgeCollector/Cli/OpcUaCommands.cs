using System.CommandLine;
using System.Globalization;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;

namespace EdgeCollector.Cli;

/// <summary>
/// <c>edgecollector opcua browse|read</c>: commissioning against a PLC or SCADA server, with SecurityPolicy None or, with
/// <c>--mode</c> and <c>--policy</c>, signed / encrypted using the PKI folder of <c>edgecollector certs</c>.
/// </summary>
public static class OpcUaCommands
{
    /// <summary>Runs a command; an OPC UA failure (e.g. BadCertificateUntrusted with its "certs trust" hint) or a bad option prints one line.</summary>
    private static async Task<int> Reporting(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (UaException ex)
        {
            Console.Error.WriteLine($"{ex.Status.Name}: {ex.Message}");
            return ExitCodes.Failure;
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return ExitCodes.BadInput;
        }
    }

    public static Command Build()
    {
        var endpoint = new Argument<string>("endpoint") { Description = "opc.tcp://host:port[/path]" };
        var node = new Argument<string?>("node") { Description = "NodeId (ns=…;s=…, i=…, nsu=<uri>;s=…, Siemens \"DB\".\"Tag\"); default: the Objects folder.", Arity = ArgumentArity.ZeroOrOne };
        var browse = new Command("browse", "List the references of a node (follows BrowseNext).");
        browse.Arguments.Add(endpoint);
        browse.Arguments.Add(node);
        CertsCommand.AddSecurityOptions(browse);
        browse.SetAction((parse, ct) => Reporting(async () =>
        {
            await using var client = await UaClient.ConnectAsync(CertsCommand.ClientOptions(parse, parse.GetValue(endpoint)!), ct);
            var start = parse.GetValue(node) is { } text ? await client.ResolveNodeIdAsync(text, ct) : WellKnownNodes.ObjectsFolder;
            foreach (var r in await client.BrowseAsync(start, cancellationToken: ct))
            {
                Console.WriteLine($"{r.NodeClass,-14} {r.NodeId,-60} {r.BrowseName}");
            }

            await client.CloseAsync(ct);
            return ExitCodes.Ok;
        }));

        var nodes = new Argument<string[]>("nodes") { Description = "One or more NodeIds.", Arity = ArgumentArity.OneOrMore };
        var read = new Command("read", "Read the values of nodes with status and source timestamp.");
        read.Arguments.Add(endpoint);
        read.Arguments.Add(nodes);
        CertsCommand.AddSecurityOptions(read);
        read.SetAction((parse, ct) => Reporting(async () =>
        {
            await using var client = await UaClient.ConnectAsync(CertsCommand.ClientOptions(parse, parse.GetValue(endpoint)!), ct);
            int bad = 0;
            foreach (var text in parse.GetValue(nodes)!)
            {
                var id = await client.ResolveNodeIdAsync(text, ct);
                var v = await client.ReadValueAsync(id, ct);
                bad += v.Status.IsBad ? 1 : 0;
                string when = v.SourceTimestamp?.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) ?? "-";
                Console.WriteLine($"{text}\t{Convert.ToString(v.Value.Value, CultureInfo.InvariantCulture)}\t{v.Status}\t{when}");
            }

            await client.CloseAsync(ct);
            return bad == 0 ? ExitCodes.Ok : ExitCodes.Failure;
        }));

        var command = new Command("opcua", "OPC UA commissioning tools.");
        command.Subcommands.Add(browse);
        command.Subcommands.Add(read);
        return command;
    }
}
