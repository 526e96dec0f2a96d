// GCBench (after Hans Boehm's GCBench.java). Usage: GCBench [depth=16]
public final class GCBench {
    static final class Node {
        Node left, right;
        int i, j;
        Node(Node l, Node r) { left = l; right = r; }
        Node() {}
    }

    static int treeSize(int i) { return (1 << (i + 1)) - 1; }

    static void populate(int depth, Node n) {
        if (depth <= 0) return;
        depth--;
        n.left = new Node();
        n.right = new Node();
        populate(depth, n.left);
        populate(depth, n.right);
    }

    static Node makeTree(int depth) {
        return depth <= 0 ? new Node() : new Node(makeTree(depth - 1), makeTree(depth - 1));
    }

    static volatile Node sink;

    public static void main(String[] args) {
        int maxDepth = Common.intArg(args, 0, 16), minDepth = 4, arraySize = 500000;
        int longLivedDepth = maxDepth, stretchDepth = maxDepth + 2;
        long start = System.nanoTime();
        System.out.println("Garbage Collector Test");
        System.out.println(" Stretching memory with a binary tree of depth " + stretchDepth);
        sink = makeTree(stretchDepth);
        sink = null;
        System.out.println(" Creating a long-lived binary tree of depth " + longLivedDepth);
        Node longLived = new Node();
        populate(longLivedDepth, longLived);
        System.out.println(" Creating a long-lived array of " + arraySize + " doubles");
        double[] array = new double[arraySize];
        for (int i = 0; i < arraySize / 2; i++) array[i] = 1.0 / i;
        for (int d = minDepth; d <= maxDepth; d += 2) {
            int iters = 2 * treeSize(stretchDepth) / treeSize(d);
            System.out.println("Creating " + iters + " trees of depth " + d);
            long t0 = System.nanoTime();
            for (int i = 0; i < iters; i++) {
                Node t = new Node();
                populate(d, t);
                sink = t;
            }
            System.out.printf("\tTop down construction took %.1f msec%n", (System.nanoTime() - t0) / 1e6);
            t0 = System.nanoTime();
            for (int i = 0; i < iters; i++) sink = makeTree(d);
            System.out.printf("\tBottom up construction took %.1f msec%n", (System.nanoTime() - t0) / 1e6);
        }
        sink = null;
        if (longLived == null || array[1000] != 1.0 / 1000) {
            System.out.println("Failed");
            System.exit(1);
        }
        System.out.printf("Completed in %.1f msec%n", (System.nanoTime() - start) / 1e6);
        Common.result("gcbench", start, "");
    }
}
