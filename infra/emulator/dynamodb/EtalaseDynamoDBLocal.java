// EtalaseDynamoDBLocal starts AWS DynamoDB Local listening on 127.0.0.1 only.
//
// Compiled once by infra/emulator (Install) into <cache>/emulators/dynamodb-launcher
// and run by Start in place of `java -jar DynamoDBLocal.jar`, with the same
// arguments:
//
//   java -cp DynamoDBLocal.jar:<launcher dir> EtalaseDynamoDBLocal -port N ...
//
// It exists because DynamoDB Local has no option for the listening address: its
// DynamoDBProxyServer builds a Jetty Server with one ServerConnector that has no
// host, so Jetty binds every interface. This class builds the server exactly as
// DynamoDB Local's own main (ServerRunner) does, sets the host of that connector
// to 127.0.0.1 before starting it, and after the start checks the socket that is
// really bound. Anything unexpected (no connector, a connector whose address
// cannot be set, a socket bound elsewhere, a failed start) ends the process with
// status 1 instead of serving on another address.
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ServerSocketChannel;
import org.eclipse.jetty.server.AbstractNetworkConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;

public final class EtalaseDynamoDBLocal {
    /** The only address DynamoDB Local may listen on. */
    static final String HOST = "127.0.0.1";

    private EtalaseDynamoDBLocal() {}

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable e) {
            System.err.println("etalase-dynamodb-local: " + e);
            e.printStackTrace();
            System.out.flush();
            System.err.flush();
            // Jetty's threads would keep the JVM alive after a failed start.
            Runtime.getRuntime().halt(1);
        }
    }

    private static void run(String[] args) throws Exception {
        InetAddress want = InetAddress.getByName(HOST);
        // Parses the arguments, prints the configuration and builds the
        // server, as ServerRunner.main does before it starts the server.
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Server jetty = jettyServer(proxy);
        Connector[] connectors = jetty.getConnectors();
        if (connectors == null || connectors.length == 0) {
            throw new IllegalStateException("DynamoDB Local's Jetty server has no connectors");
        }
        for (Connector c : connectors) {
            if (!(c instanceof AbstractNetworkConnector)) {
                throw new IllegalStateException("cannot set the listening address of Jetty connector " + c);
            }
            ((AbstractNetworkConnector) c).setHost(HOST);
        }

        // DynamoDBProxyServer.start prints and swallows some start failures
        // (it stops the server instead), so check that the server runs.
        proxy.start();
        if (!jetty.isStarted()) {
            throw new IllegalStateException("DynamoDB Local's server did not start");
        }
        for (Connector c : jetty.getConnectors()) {
            Object transport = c.getTransport();
            if (!(transport instanceof ServerSocketChannel)) {
                throw new IllegalStateException("Jetty connector " + c + " has no server socket (transport " + transport + ")");
            }
            SocketAddress bound = ((ServerSocketChannel) transport).getLocalAddress();
            if (!(bound instanceof InetSocketAddress) || !want.equals(((InetSocketAddress) bound).getAddress())) {
                throw new IllegalStateException("Jetty connector " + c + " is bound to " + bound + ", want " + HOST);
            }
            System.out.println("etalase-dynamodb-local: listening on " + bound);
        }
    }

    /** Returns the Jetty server that DynamoDBProxyServer keeps in a private field. */
    private static Server jettyServer(DynamoDBProxyServer proxy) throws ReflectiveOperationException {
        Server found = null;
        for (Field f : DynamoDBProxyServer.class.getDeclaredFields()) {
            if (Server.class.isAssignableFrom(f.getType())) {
                if (found != null) {
                    throw new IllegalStateException("DynamoDBProxyServer has more than one Jetty server field");
                }
                f.setAccessible(true);
                found = (Server) f.get(proxy);
            }
        }
        if (found == null) {
            throw new IllegalStateException("no Jetty server found in " + DynamoDBProxyServer.class.getName());
        }
        return found;
    }
}
