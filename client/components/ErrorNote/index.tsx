import { Text, View } from '@tarojs/components';

/** What happened and what to do next, in one line above the action it concerns. */
export default function ErrorNote({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <View className="error-note" role="alert">
      <Text>{message}</Text>
    </View>
  );
}
