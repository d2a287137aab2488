// The built-in synthetic multi-skill task family: four small string skills over digit strings,
// written as prompt → completion, e.g. "rev 4821=" → "1284". Copy and reverse read the same inputs
// but want opposite outputs, and sort shares reverse's "rearrange" nature while add-one mostly
// copies with a carry: training on one skill helps or hurts the others, so which examples come
// when (the curriculum) and the mix of skills visibly change the loss trajectories.
import { seededUniform } from "../random.ts";
import type { DatasetExample } from "./example.ts";

export const SKILLS = ["add1", "rev", "sort", "copy"] as const;
export type Skill = (typeof SKILLS)[number];

export const SKILLS_SEED = 20240611;
export const EXAMPLES_PER_SKILL = 250;

function solve(skill: Skill, digits: string): string {
  switch (skill) {
    case "add1":
      return (BigInt(digits) + 1n).toString();
    case "rev":
      return [...digits].reverse().join("");
    case "sort":
      return [...digits].sort().join("");
    case "copy":
      return digits;
  }
}

/** Ids are `<skill>-<index>`, so a run's skill mix can be read off its batches. */
export function skillExamples(
  seed = SKILLS_SEED,
  perSkill = EXAMPLES_PER_SKILL,
): DatasetExample[] {
  const random = seededUniform(seed);
  const examples: DatasetExample[] = [];
  for (const skill of SKILLS) {
    for (let i = 0; i < perSkill; i++) {
      const length = 2 + Math.floor(random() * 4); // 2..5 digits
      let digits = "";
      for (let k = 0; k < length; k++) {
        // add1 reads a number: no leading zero.
        const lo = k === 0 && skill === "add1" ? 1 : 0;
        digits += String(lo + Math.floor(random() * (10 - lo)));
      }
      examples.push({
        id: `${skill}-${i}`,
        prompt: `${skill} ${digits}=`,
        completion: solve(skill, digits),
      });
    }
  }
  return examples;
}
