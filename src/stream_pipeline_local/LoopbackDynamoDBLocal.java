import com.amazonaws.services.dynamodbv2.exceptions.DynamoDBLocalServiceException;
import com.amazonaws.services.dynamodbv2.local.main.CommandLineInput;
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.apache.commons.cli.ParseException;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;

/**
 * DynamoDB Local (1.11.478, Jetty 8) on loopback only: the Main-Class of the small launcher jar
 * that stream_pipeline_local.install puts in front of the untouched DynamoDBLocal jar.
 *
 * DynamoDB Local has no host option: DynamoDBProxyServer builds its Jetty server with
 * new Server(port), which binds every interface. This builds the server exactly as
 * ServerRunner.main does (read from its bytecode with javap -c), sets the host 127.0.0.1 on each
 * Jetty connector before it opens its socket, then starts it.
 */
public final class LoopbackDynamoDBLocal {
    private static final String HOST = "127.0.0.1";
    private static final String CLI_ERROR = "Error processing the supplied command line arguments";

    private LoopbackDynamoDBLocal() {}

    public static void main(String[] args) throws Exception {
        try {
            if (!new CommandLineInput(args).init()) {
                return; // -help: ServerRunner prints the usage and returns
            }
        } catch (ParseException e) {
            System.err.print(CLI_ERROR);
            return;
        }
        DynamoDBProxyServer proxy;
        try {
            proxy = ServerRunner.createServerFromCommandLineArgs(args);
        } catch (DynamoDBLocalServiceException e) {
            System.err.print("A fatal error occured" + e);
            return;
        } catch (ParseException | IllegalArgumentException e) {
            System.err.print(CLI_ERROR);
            return;
        }
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Connector[] connectors = ((Server) field.get(proxy)).getConnectors();
        if (connectors == null || connectors.length == 0) {
            throw new IllegalStateException("DynamoDB Local has no Jetty connector to bind to " + HOST + ".");
        }
        for (Connector connector : connectors) {
            connector.setHost(HOST);
        }
        try {
            proxy.start();
        } catch (DynamoDBLocalServiceException e) {
            System.err.print("A fatal error occured" + e);
        }
    }
}
