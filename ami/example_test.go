package ami_test

import (
	"fmt"
	"log"

	"github.com/linkage/linkage/ami"
)

func ExampleDecode() {
	events, err := ami.ReadCaptureFile("testdata/captures/lab/a1_queue_localmember_answer_caller_hangup.ami")
	if err != nil {
		log.Fatal(err)
	}
	for i := range events {
		te, err := ami.Decode(&events[i])
		if err != nil {
			log.Fatal(err)
		}
		switch ev := te.(type) {
		case *ami.QueueCallerJoin:
			fmt.Println("join", ev.Queue, ev.Uniqueid, ev.Linkedid, events[i].Time.Format("15:04:05.000"))
		case *ami.AgentConnect:
			fmt.Println("answered by", ev.MemberName, ev.Dest.Channel, "after", ev.HoldTime, "s")
		case *ami.AgentComplete:
			fmt.Println("complete", ev.Reason, "talk", ev.TalkTime, "s")
		}
	}
	// Output:
	// join support 1795704908.0 1795704908.0 14:55:09.595
	// answered by Agent One Local/1001@agents-00000000;1 after 3 s
	// complete caller talk 13 s
}
