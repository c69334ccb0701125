package scenario

// Resource returns the resource called name, or nil.
func (s *Scenario) Resource(name string) *Resource {
	for i := range s.Resources {
		if s.Resources[i].Name == name {
			return &s.Resources[i]
		}
	}
	return nil
}

// Thread returns the thread called name, or nil.
func (s *Scenario) Thread(name string) *Thread {
	for i := range s.Threads {
		if s.Threads[i].Name == name {
			return &s.Threads[i]
		}
	}
	return nil
}

// ForkStep returns main's fork step, or nil when there is none.
func (s *Scenario) ForkStep() *Step {
	for i := range s.Main {
		if s.Main[i].Op == OpFork && s.Main[i].Fork != nil {
			return &s.Main[i]
		}
	}
	return nil
}
