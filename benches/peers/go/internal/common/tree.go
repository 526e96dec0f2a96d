package common

// Node is the binary-tree node used by binary-trees, pause probe and churn.
type Node struct {
	Left, Right *Node
}

// BottomUp builds a perfect tree of the given depth.
func BottomUp(depth int) *Node {
	if depth <= 0 {
		return &Node{}
	}
	return &Node{BottomUp(depth - 1), BottomUp(depth - 1)}
}

// Check counts the nodes of a tree.
func (n *Node) Check() int {
	if n.Left == nil {
		return 1
	}
	return 1 + n.Left.Check() + n.Right.Check()
}
