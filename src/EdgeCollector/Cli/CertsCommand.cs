using System.CommandLine;
using System.Globalization;
using EdgeCollector.Configuration;
using EdgeCollector.Core.Configuration;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;
using EdgeCollector.Sources.OpcUa;

namespace EdgeCollector.Cli;

/// <summary>
/// <c>edgecollector certs list|trust</c>: the OPC UA PKI folder (own, trusted, issuers, rejected). A server
/// certificate the collector refused lands in <c>rejected/</c>; an operator checks it and trusts it by thumbprint.
/// </summary>
public static class CertsCommand
{
    private static readonly Option<string?> PkiOption = new("--pki")
    {
        Description = "The PKI folder. Default: Sources[].Security.PkiDir of the first OpcUa source that sets it, else {Storage.DataDir}/pki.",
    };

    public static Command Build()
    {
        var list = new Command("list", "List own, trusted, issuer and rejected certificates with thumbprint, validity and ApplicationUri.");
        CommandLine.AddConfigOptions(list);
        list.Options.Add(PkiOption);
        list.SetAction(parse =>
        {
            var store = Open(parse);
            if (store is null)
                return ExitCodes.BadInput;
            Console.WriteLine($"PKI folder {store.Root}");
            foreach (var c in store.List())
            {
                string until = c.NotAfter.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                string state = c.NotAfter < DateTime.UtcNow ? " EXPIRED" : "";
                Console.WriteLine($"{c.Folder,-9} {c.Thumbprint}  until {until}{state}  {c.ApplicationUri ?? "-"}  {c.Subject}");
            }

            return ExitCodes.Ok;
        });

        var what = new Argument<string>("thumbprint-or-file") { Description = "Thumbprint (or a unique prefix of 8+ hex digits) of a rejected certificate, or a DER/PEM certificate file." };
        var trust = new Command("trust", "Trust a server certificate: move it from rejected/ to trusted/ (or copy a certificate file there).");
        CommandLine.AddConfigOptions(trust);
        trust.Options.Add(PkiOption);
        trust.Arguments.Add(what);
        trust.SetAction(parse =>
        {
            var store = Open(parse);
            if (store is null)
                return ExitCodes.BadInput;
            try
            {
                var c = store.Trust(parse.GetValue(what)!);
                Console.WriteLine($"trusted {c.Thumbprint}  {c.ApplicationUri ?? "-"}  {c.Subject}  -> {c.Path}");
                return ExitCodes.Ok;
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine(ex.Message);
                return ExitCodes.BadInput;
            }
        });

        var command = new Command("certs", "OPC UA application certificates and the trust list.");
        command.Subcommands.Add(list);
        command.Subcommands.Add(trust);
        return command;
    }

    private static UaCertificateStore? Open(ParseResult parse)
    {
        var folder = parse.GetValue(PkiOption);
        if (folder is null)
        {
            var config = CommandLine.LoadConfig(parse, Console.Error);
            if (config is null)
                return null;
            folder = PkiFolder(config);
        }

        return new UaCertificateStore(folder, log: line => Console.Error.WriteLine(line));
    }

    private static readonly Option<string?> ModeOption = new("--mode") { Description = "Sign or SignAndEncrypt (default: None, no security)." };

    private static readonly Option<string?> PolicyOption = new("--policy") { Description = "Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss (with --mode)." };

    private static readonly Option<string?> UserOption = new("--user") { Description = "User name (anonymous when omitted)." };

    private static readonly Option<string?> PasswordEnvOption = new("--password-env") { Description = "Name of the environment variable holding the password (never on the command line)." };

    private static readonly Option<string?> CommandPkiOption = new("--pki") { Description = "PKI folder (default ./data/pki): own certificate, trusted, rejected." };

    /// <summary>Adds --mode, --policy, --user, --password-env and --pki to an <c>opcua</c> command.</summary>
    public static void AddSecurityOptions(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(ModeOption);
        command.Options.Add(PolicyOption);
        command.Options.Add(UserOption);
        command.Options.Add(PasswordEnvOption);
        command.Options.Add(CommandPkiOption);
    }

    /// <summary>Client options from the security options (an untrusted server ends up in the PKI folder's rejected/).</summary>
    public static UaClientOptions ClientOptions(ParseResult parse, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var user = parse.GetValue(UserOption) is { } name ? new UaUserIdentity(name, SecretResolver.Resolve(parse.GetValue(PasswordEnvOption)) ?? "") : null;
        var modeText = parse.GetValue(ModeOption);
        if (modeText is null || string.Equals(modeText, "None", StringComparison.Ordinal))
            return new UaClientOptions { EndpointUrl = endpoint, AutoReconnect = false, User = user };
        if (!Enum.TryParse<MessageSecurityMode>(modeText, out var mode) || mode is not (MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt))
            throw new ArgumentException($"--mode: '{modeText}' is not None, Sign or SignAndEncrypt");
        var policy = UaSecurityPolicy.Find(parse.GetValue(PolicyOption) ?? throw new ArgumentException("--policy: required with --mode " + modeText))
            ?? throw new ArgumentException("--policy: None needs no --mode");
        var store = new UaCertificateStore(parse.GetValue(CommandPkiOption) ?? Path.Combine("data", "pki"), log: line => Console.Error.WriteLine(line));
        return new UaClientOptions
        {
            EndpointUrl = endpoint,
            AutoReconnect = false,
            User = user,
            ApplicationUri = OpcUaSource.ApplicationUri,
            Security = new UaClientSecurity { Policy = policy, Mode = mode, Store = store, Certificate = store.LoadOrCreateOwn(OpcUaSource.ApplicationUri, "EdgeCollector") },
        };
    }

    /// <summary>The PKI folder a config uses: the first OpcUa source's Security.PkiDir, else {Storage.DataDir}/pki.</summary>
    public static string PkiFolder(EdgeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Sources.FirstOrDefault(s => s.Type == SourceType.OpcUa && s.PkiDir is not null)?.PkiDir
            ?? Path.Combine(config.Storage.DataDir, "pki");
    }
}
