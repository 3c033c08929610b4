package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestRecommenderBeatsPopularity is the offline evaluation in make test: on planted taste
// groups, the recommender's hit rate at 10 on held-out likes must clearly beat popularity's.
func TestRecommenderBeatsPopularity(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := realMain([]string{"evaluate", "-users", "400", "-json"}, &out, &errOut); code != 0 {
		t.Fatalf("loadgen evaluate exited %d: %s", code, errOut.String())
	}
	var res evalResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("evaluate output %q: %v", out.String(), err)
	}
	t.Logf("hit rate at %d: recommender %.3f, popularity %.3f (%d users, %d videos, %d held-out likes, model heap %d bytes)",
		res.K, res.HitRate, res.HitRatePopular, res.Users, res.Videos, res.HeldOut, res.ModelHeapBytes)
	if res.K != 10 || res.Users != 400 || res.HeldOut == 0 {
		t.Fatalf("evaluation ran on %+v, want k 10, 400 users and held-out likes", res)
	}
	if res.HitRate < res.HitRatePopular+0.15 || res.HitRate < 1.3*res.HitRatePopular {
		t.Errorf("recommender hit rate %.3f does not clearly beat popularity's %.3f", res.HitRate, res.HitRatePopular)
	}
}

func TestEvaluateRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-holdout", "0"}, {"-likes-per-user", "1"}, {"-users", "0"}, {"-noise", "1"}} {
		var out, errOut bytes.Buffer
		if code := realMain(append([]string{"evaluate"}, args...), &out, &errOut); code == 0 {
			t.Errorf("evaluate %v exited 0, want a usage error", args)
		}
	}
}
