// Four-thread churn (see benches/README.md). Usage: Churn4 [iters=200000]
public final class Churn4 {
    static final int THREADS = 4, LIST_LEN = 32, SHARED_DEPTH = 16;

    static final class ListNode {
        final ListNode next;
        final Common.Node shared;
        final long val;
        ListNode(ListNode next, Common.Node shared, long val) { this.next = next; this.shared = shared; this.val = val; }
    }

    static Common.Node pick(Common.Node root, int k) {
        Common.Node n = root;
        for (int b = 0; b < 8; b++) n = ((k >> b) & 1) == 0 ? n.left : n.right;
        return n;
    }

    public static void main(String[] args) throws InterruptedException {
        int iters = Common.intArg(args, 0, 200000);
        long start = System.nanoTime();
        Common.Node shared = Common.bottomUp(SHARED_DEPTH);
        long[] sums = new long[THREADS];
        Thread[] th = new Thread[THREADS];
        for (int t = 0; t < THREADS; t++) {
            final int id = t;
            th[t] = new Thread(() -> {
                long sum = 0;
                for (int i = 0; i < iters; i++) {
                    ListNode head = null;
                    for (int j = 0; j < LIST_LEN; j++) head = new ListNode(head, pick(shared, i + j), j);
                    for (ListNode n = head; n != null; n = n.next) sum += n.val + (n.shared.left != null ? 1 : 0);
                }
                sums[id] = sum;
            });
            th[t].start();
        }
        long total = 0;
        for (int t = 0; t < THREADS; t++) { th[t].join(); total += sums[t]; }
        System.out.println("threads " + THREADS + ", iterations " + iters + ", shared nodes " + Common.check(shared) + ", check " + total);
        Common.result("churn4", start, "");
    }
}
