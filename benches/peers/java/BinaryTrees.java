// binary-trees (Benchmarks Game rules), single-threaded. Usage: BinaryTrees [depth=21]
public final class BinaryTrees {
    public static void main(String[] args) {
        int n = Common.intArg(args, 0, 21);
        long start = System.nanoTime();
        int minDepth = 4, maxDepth = Math.max(minDepth + 2, n), stretch = maxDepth + 1;
        System.out.println("stretch tree of depth " + stretch + "\t check: " + Common.check(Common.bottomUp(stretch)));
        Common.Node longLived = Common.bottomUp(maxDepth);
        for (int d = minDepth; d <= maxDepth; d += 2) {
            int iters = 1 << (maxDepth - d + minDepth);
            long check = 0;
            for (int i = 0; i < iters; i++) check += Common.check(Common.bottomUp(d));
            System.out.println(iters + "\t trees of depth " + d + "\t check: " + check);
        }
        System.out.println("long lived tree of depth " + maxDepth + "\t check: " + Common.check(longLived));
        Common.result("binarytrees", start, "");
    }
}
